/**
 * Fake raw transactions (DESIGN.md, "Raw transaction"): users from the stable pool, several
 * currencies, all five statuses, some null types, event times over the last three days.
 * Deterministic: the same seed, pool and `now` give the same records.
 */
import { STATUSES, TRANSACTION_TYPES } from "../config/settings.ts";
import type { RawTransaction } from "../processor/validate.ts";
import { Random } from "./random.ts";
import { CURRENCY_RATES } from "./rates.ts";
import type { FakeUser } from "./users.ts";

const SPREAD_MS = 3 * 24 * 60 * 60 * 1000;
/** Mostly completed, as in a real payment stream; weights follow STATUSES' order. */
const STATUS_WEIGHTS = [70, 8, 10, 7, 5];
const CURRENCIES = ["USD", "USD", "EUR", "EUR", "GBP", "JPY", "INR", "CHF", "CAD", "AUD"];

export interface GeneratorOptions {
  seed: number;
  users: readonly FakeUser[];
  /** Event times fall in [now - 3 days, now]. */
  now: number;
}

export function transactionGenerator(options: GeneratorOptions): () => RawTransaction {
  const random = new Random(options.seed);
  const { users, now } = options;
  if (users.length === 0) throw new RangeError("the user pool is empty");
  // Ids walk a bijection of 32-bit numbers from a seeded start: unique for 2^32 transactions.
  const base = random.int(0, 0xffffffff);
  let index = 0;
  return () => {
    const id = (base + Math.imul(index++, 0x9e3779b1)) >>> 0;
    // Squaring skews activity: a few customers buy often, many rarely.
    const user = users[Math.floor(random.next() ** 2 * users.length)];
    const currency = random.pick(CURRENCIES);
    const usd = Math.exp(random.next() * Math.log(2000)); // 1 to 2000 USD, log-uniform
    const decimals = currency === "JPY" ? 0 : 2;
    const factor = 10 ** decimals;
    const amount = Math.max(1, Math.round((usd / CURRENCY_RATES[currency]) * factor)) / factor;
    return {
      TRANSACTION_ID: `TXN-${id.toString(16).padStart(8, "0")}`,
      USER_ID: user.USER_ID,
      USER_NAME: user.USER_NAME,
      EMAIL: user.EMAIL,
      TRANSACTION_TYPE: random.chance(0.08) ? null : random.pick(TRANSACTION_TYPES),
      AMOUNT: amount,
      CURRENCY: currency,
      STATUS: weighted(random, STATUSES, STATUS_WEIGHTS),
      CITY: user.CITY,
      COUNTRY: user.COUNTRY,
      IP_ADDRESS: user.IP_ADDRESS,
      STREET: user.STREET,
      TIMESTAMP: new Date(now - Math.floor(random.next() * SPREAD_MS)).toISOString(),
    };
  };
}

function weighted<T>(random: Random, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random.next() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}
