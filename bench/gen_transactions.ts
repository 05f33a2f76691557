/**
 * Writes a TRANSACTIONS_USD lake for the load benchmark: `deno run -A bench/gen_transactions.ts
 * <lake dir> [lines] [days]`. Records look like the processor's output (pseudonymized ids, masked
 * IP and street, AMOUNT_USD), spread over a few date partitions. Deterministic (seeded).
 */
import { partitionPath } from "../src/lake/layout.ts";
import { STATUSES, TRANSACTION_TYPES } from "../src/config/settings.ts";

const [root, linesArg = "1000000", daysArg = "4"] = Deno.args;
if (!root) throw new Error("usage: gen_transactions.ts <lake dir> [lines] [days]");
const total = Number(linesArg);
const days = Number(daysArg);

/** mulberry32: small, seeded, good enough spread for ids and picks. */
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const hex = (n: number) =>
  Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");

const users = Array.from({ length: 5000 }, () => ({ id: hex(64), name: hex(64), email: hex(64) }));
const places = [
  ["Paris", "France"],
  ["Lyon", "France"],
  ["Berlin", "Germany"],
  [
    "London",
    "United Kingdom",
  ],
  ["New York", "United States"],
  ["Tokyo", "Japan"],
];
const rates: Record<string, number> = { EUR: 1.08, USD: 1, GBP: 1.27, JPY: 0.0067, CHF: 1.13 };
const currencies = Object.keys(rates);

const encoder = new TextEncoder();
const perDay = Math.ceil(total / days);
let written = 0;
for (let d = 0; d < days && written < total; d++) {
  const date = new Date(Date.UTC(2026, 10, 1 + d));
  const day = date.toISOString().slice(0, 10);
  const path = partitionPath(root, "TRANSACTIONS_USD", day);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const count = Math.min(perDay, total - written);
  let buffer: string[] = [];
  for (let i = 0; i < count; i++) {
    const user = pick(users);
    const [city, country] = pick(places);
    const currency = pick(currencies);
    const amount = Math.round(random() * 500000) / 100 + 1;
    const time = new Date(date.getTime() + Math.floor(random() * 86_400_000));
    buffer.push(JSON.stringify({
      TRANSACTION_ID: `TXN-${hex(8)}`,
      USER_ID_HASHED: user.id,
      USER_NAME_HASHED: user.name,
      EMAIL_HASHED: user.email,
      TRANSACTION_TYPE: random() < 0.03 ? null : pick(TRANSACTION_TYPES),
      AMOUNT: amount,
      CURRENCY: currency,
      STATUS: pick(STATUSES),
      CITY: city,
      COUNTRY: country,
      IP_MASKED: `${Math.floor(random() * 223) + 1}.${Math.floor(random() * 256)}.${
        Math.floor(random() * 256)
      }.0`,
      STREET_MASKED: `${"n".repeat(1 + Math.floor(random() * 3))} Rue de la Paix`,
      TIMESTAMP: time.toISOString(),
      AMOUNT_USD: Math.round(amount * rates[currency] * 1e6) / 1e6,
      TARGET_CURRENCY: "USD",
    }));
    if (buffer.length === 10_000) {
      await file.write(encoder.encode(buffer.join("\n") + "\n"));
      buffer = [];
    }
  }
  if (buffer.length) await file.write(encoder.encode(buffer.join("\n") + "\n"));
  file.close();
  written += count;
}
console.log(`wrote ${written} TRANSACTIONS_USD lines in ${days} partitions under ${root}`);
