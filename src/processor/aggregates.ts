/**
 * The processor's tables: USER_SPENDING_BY_TYPE, SPEND_LAST_FIVE_MIN_BY_TYPE and USERS. State lives
 * in memory and is rebuilt at start from the tables' own changelog topics (`restore`), so totals
 * survive a restart. `apply` folds one converted transaction in; `drain` hands out what changed
 * since the last drain, one update per key (per window), as Kafka Streams' cache would: the
 * updates of one batch go out in one Kafka transaction, so intermediate values are never visible.
 */
import { toMicros, typeOrUnknown, type UsdTransaction } from "./transform.ts";

const WINDOW_MS = 5 * 60 * 1000;

export interface UserSpending {
  USER_ID_HASHED: string;
  TRANSACTION_TYPE: string;
  TOTAL_AMOUNT_USD: number;
  TRANSACTION_COUNT: number;
  LAST_TRANSACTION_AT: string;
}

export interface WindowSpend {
  TRANSACTION_TYPE: string;
  TOTAL_AMOUNT_USD: number;
  TRANSACTION_COUNT: number;
  WINDOW_START: string;
  WINDOW_END: string;
}

export interface UserRow {
  USER_ID_HASHED: string;
  USER_NAME_HASHED: string;
  EMAIL_HASHED: string;
  CITY: string;
  COUNTRY: string;
  FIRST_SEEN_AT: string;
  LAST_SEEN_AT: string;
}

interface SpendingState {
  user: string;
  type: string;
  micros: number;
  count: number;
  lastMs: number;
}
interface WindowState {
  type: string;
  startMs: number;
  micros: number;
  count: number;
}
interface UserState {
  row: Omit<UserRow, "FIRST_SEEN_AT" | "LAST_SEEN_AT">;
  firstMs: number;
  lastMs: number;
}

export interface AggregateUpdates {
  userSpending: UserSpending[];
  windows: WindowSpend[];
  users: UserRow[];
}

/** Start of the tumbling window holding `ms`: windows are [start, start + 5 min). */
export function windowStart(ms: number): number {
  return Math.floor(ms / WINDOW_MS) * WINDOW_MS;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Aggregates {
  #spending = new Map<string, SpendingState>();
  #windows = new Map<string, WindowState>();
  #users = new Map<string, UserState>();
  #dirtySpending = new Set<string>();
  #dirtyWindows = new Set<string>();
  #dirtyUsers = new Set<string>();

  /** Folds one converted transaction (event time `eventMs`) into the three tables. */
  apply(tx: UsdTransaction, eventMs: number): void {
    const type = typeOrUnknown(tx.TRANSACTION_TYPE);
    const micros = toMicros(tx.AMOUNT_USD);

    const spendingKey = `${tx.USER_ID_HASHED}|${type}`;
    const spending = this.#spending.get(spendingKey) ??
      { user: tx.USER_ID_HASHED, type, micros: 0, count: 0, lastMs: eventMs };
    spending.micros += micros;
    spending.count += 1;
    spending.lastMs = Math.max(spending.lastMs, eventMs);
    this.#spending.set(spendingKey, spending);
    touch(this.#dirtySpending, spendingKey);

    const startMs = windowStart(eventMs);
    const windowKey = `${type}|${startMs}`;
    const window = this.#windows.get(windowKey) ?? { type, startMs, micros: 0, count: 0 };
    window.micros += micros;
    window.count += 1;
    this.#windows.set(windowKey, window);
    touch(this.#dirtyWindows, windowKey);

    const user = this.#users.get(tx.USER_ID_HASHED);
    const row = {
      USER_ID_HASHED: tx.USER_ID_HASHED,
      USER_NAME_HASHED: tx.USER_NAME_HASHED,
      EMAIL_HASHED: tx.EMAIL_HASHED,
      CITY: tx.CITY,
      COUNTRY: tx.COUNTRY,
    };
    if (!user) {
      this.#users.set(tx.USER_ID_HASHED, { row, firstMs: eventMs, lastMs: eventMs });
    } else {
      // Name, email and place are those of the user's latest transaction by event time.
      if (eventMs >= user.lastMs) user.row = row;
      user.firstMs = Math.min(user.firstMs, eventMs);
      user.lastMs = Math.max(user.lastMs, eventMs);
    }
    touch(this.#dirtyUsers, tx.USER_ID_HASHED);
  }

  /** The current value of every key changed since the last drain, in order of last change. */
  drain(): AggregateUpdates {
    const updates: AggregateUpdates = {
      userSpending: [...this.#dirtySpending].map((k) => spendingValue(this.#spending.get(k)!)),
      windows: [...this.#dirtyWindows].map((k) => windowValue(this.#windows.get(k)!)),
      users: [...this.#dirtyUsers].map((k) => userValue(this.#users.get(k)!)),
    };
    this.#dirtySpending.clear();
    this.#dirtyWindows.clear();
    this.#dirtyUsers.clear();
    return updates;
  }

  /** Rebuilds USER_SPENDING_BY_TYPE from its changelog (key hash|type; null deletes). */
  restoreUserSpending(key: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      this.#spending.delete(key);
      return;
    }
    const v = value as unknown as UserSpending;
    requireFields(value, ["USER_ID_HASHED", "TRANSACTION_TYPE", "LAST_TRANSACTION_AT"], [
      "TOTAL_AMOUNT_USD",
      "TRANSACTION_COUNT",
    ]);
    this.#spending.set(key, {
      user: v.USER_ID_HASHED,
      type: v.TRANSACTION_TYPE,
      micros: toMicros(v.TOTAL_AMOUNT_USD),
      count: v.TRANSACTION_COUNT,
      lastMs: Date.parse(v.LAST_TRANSACTION_AT),
    });
  }

  /** Rebuilds the windows: every window update is on the topic; a tombstone drops the type. */
  restoreWindow(key: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      for (const [k, w] of this.#windows) if (w.type === key) this.#windows.delete(k);
      return;
    }
    const v = value as unknown as WindowSpend;
    requireFields(value, ["TRANSACTION_TYPE", "WINDOW_START"], [
      "TOTAL_AMOUNT_USD",
      "TRANSACTION_COUNT",
    ]);
    const startMs = Date.parse(v.WINDOW_START);
    this.#windows.set(`${v.TRANSACTION_TYPE}|${startMs}`, {
      type: v.TRANSACTION_TYPE,
      startMs,
      micros: toMicros(v.TOTAL_AMOUNT_USD),
      count: v.TRANSACTION_COUNT,
    });
  }

  restoreUser(key: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      this.#users.delete(key);
      return;
    }
    requireFields(value, ["USER_ID_HASHED", "FIRST_SEEN_AT", "LAST_SEEN_AT"], []);
    const { FIRST_SEEN_AT, LAST_SEEN_AT, ...row } = value as unknown as UserRow;
    this.#users.set(key, {
      row,
      firstMs: Date.parse(FIRST_SEEN_AT),
      lastMs: Date.parse(LAST_SEEN_AT),
    });
  }

  sizes(): { userSpending: number; windows: number; users: number } {
    return {
      userSpending: this.#spending.size,
      windows: this.#windows.size,
      users: this.#users.size,
    };
  }
}

/**
 * Changelog values are checked before they become state: a record written to the topic by
 * something else must not turn a total into NaN. Throws a RangeError; the caller skips it.
 */
function requireFields(value: Record<string, unknown>, texts: string[], numbers: string[]): void {
  for (const field of texts) {
    if (typeof value[field] !== "string") throw new RangeError(`${field} is not a string`);
  }
  for (const field of numbers) {
    if (typeof value[field] !== "number" || !Number.isFinite(value[field])) {
      throw new RangeError(`${field} is not a number`);
    }
  }
  for (const field of texts.filter((f) => f.endsWith("_AT") || f === "WINDOW_START")) {
    if (Number.isNaN(Date.parse(value[field] as string))) {
      throw new RangeError(`${field} is not a time`);
    }
  }
}

/** Moves `key` to the end of the set, so drains list keys in order of their last change. */
function touch(set: Set<string>, key: string): void {
  set.delete(key);
  set.add(key);
}

function spendingValue(s: SpendingState): UserSpending {
  return {
    USER_ID_HASHED: s.user,
    TRANSACTION_TYPE: s.type,
    TOTAL_AMOUNT_USD: s.micros / 1e6,
    TRANSACTION_COUNT: s.count,
    LAST_TRANSACTION_AT: iso(s.lastMs),
  };
}

function windowValue(w: WindowState): WindowSpend {
  return {
    TRANSACTION_TYPE: w.type,
    TOTAL_AMOUNT_USD: w.micros / 1e6,
    TRANSACTION_COUNT: w.count,
    WINDOW_START: iso(w.startMs),
    WINDOW_END: iso(w.startMs + WINDOW_MS),
  };
}

function userValue(u: UserState): UserRow {
  return { ...u.row, FIRST_SEEN_AT: iso(u.firstMs), LAST_SEEN_AT: iso(u.lastMs) };
}
