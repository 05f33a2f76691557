/**
 * The per-user tables of one raw partition: USER_SPENDING_BY_TYPE and USERS. Raw records are
 * keyed by USER_ID, so every transaction of a user is in one raw partition, and these tables are
 * co-partitioned with it: the state of raw partition p is exactly partition p of both changelog
 * topics. An instance holds one UserTables per partition it owns, loads it when the partition is
 * assigned and drops it when it is revoked.
 *
 * `apply` folds one converted transaction in; `drain` hands out what changed since the last drain,
 * one update per key, as Kafka Streams' cache would (the updates of one batch go out in one Kafka
 * transaction, so intermediate values are never visible). Sums are exact integers of
 * micro-dollars: a record that would take a total past Number.MAX_SAFE_INTEGER micro-dollars is
 * refused by `apply` with a reason and changes nothing (the processor quarantines it).
 */
import { keyParts } from "../contract/record.ts";
import { requireFields } from "./changelog_values.ts";
import { toMicros, typeOrUnknown, type UsdTransaction } from "./transform.ts";

/** The largest exact total, in micro-dollars. */
export const MAX_MICROS = Number.MAX_SAFE_INTEGER;
/** USER_SPENDING_BY_TYPE's key fields, to read its changelog keys in either form. */
const SPENDING_KEY = { primaryKey: ["USER_ID_HASHED", "TRANSACTION_TYPE"] };

export interface UserSpending {
  USER_ID_HASHED: string;
  TRANSACTION_TYPE: string;
  TOTAL_AMOUNT_USD: number;
  TRANSACTION_COUNT: number;
  LAST_TRANSACTION_AT: string;
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
interface UserState {
  row: Omit<UserRow, "FIRST_SEEN_AT" | "LAST_SEEN_AT">;
  firstMs: number;
  lastMs: number;
}

export interface UserUpdates {
  userSpending: UserSpending[];
  users: UserRow[];
}

/** The whole state as plain JSON: what a snapshot file holds. */
export interface UserTablesSnapshot {
  userSpending: UserSpending[];
  users: UserRow[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export class UserTables {
  /** user → type → totals (nested: no composite key string built per record). */
  #spending = new Map<string, Map<string, SpendingState>>();
  #spendingCount = 0;
  #users = new Map<string, UserState>();
  // Dirty states themselves, in order of first change since the last drain.
  #dirtySpending = new Set<SpendingState>();
  #dirtyUsers = new Set<UserState>();

  /** Micro-dollars of `tx`, or the reason it cannot be added exactly to its user's total. */
  check(tx: UsdTransaction, micros: number): string | undefined {
    if (!Number.isSafeInteger(micros) || micros < 0) {
      return `AMOUNT_USD ${tx.AMOUNT_USD} is outside the range the totals keep exactly`;
    }
    const spending = this.#spending.get(tx.USER_ID_HASHED)?.get(typeOrUnknown(tx.TRANSACTION_TYPE));
    if ((spending?.micros ?? 0) + micros > MAX_MICROS) {
      return `AMOUNT_USD ${tx.AMOUNT_USD} would take TOTAL_AMOUNT_USD of USER_SPENDING_BY_TYPE ` +
        `past ${MAX_MICROS / 1e6}`;
    }
    return undefined;
  }

  /** Folds one transaction in; `check` must have passed for it. */
  apply(tx: UsdTransaction, micros: number, eventMs: number): void {
    const type = typeOrUnknown(tx.TRANSACTION_TYPE);
    let byType = this.#spending.get(tx.USER_ID_HASHED);
    let s = byType?.get(type);
    if (!s) {
      s = { user: tx.USER_ID_HASHED, type, micros: 0, count: 0, lastMs: eventMs };
      if (!byType) this.#spending.set(tx.USER_ID_HASHED, byType = new Map());
      byType.set(type, s);
      this.#spendingCount++;
    }
    s.micros += micros;
    s.count += 1;
    if (eventMs > s.lastMs) s.lastMs = eventMs;
    this.#dirtySpending.add(s);

    const user = this.#users.get(tx.USER_ID_HASHED);
    const row = {
      USER_ID_HASHED: tx.USER_ID_HASHED,
      USER_NAME_HASHED: tx.USER_NAME_HASHED,
      EMAIL_HASHED: tx.EMAIL_HASHED,
      CITY: tx.CITY,
      COUNTRY: tx.COUNTRY,
    };
    if (!user) {
      const fresh = { row, firstMs: eventMs, lastMs: eventMs };
      this.#users.set(tx.USER_ID_HASHED, fresh);
      this.#dirtyUsers.add(fresh);
    } else {
      // Name, email and place are those of the user's latest transaction by event time.
      if (eventMs >= user.lastMs) user.row = row;
      user.firstMs = Math.min(user.firstMs, eventMs);
      user.lastMs = Math.max(user.lastMs, eventMs);
      this.#dirtyUsers.add(user);
    }
  }

  /** The current value of every key changed since the last drain, in order of first change. */
  drain(): UserUpdates {
    const updates = {
      userSpending: [...this.#dirtySpending].map(spendingValue),
      users: [...this.#dirtyUsers].map(userValue),
    };
    this.#dirtySpending.clear();
    this.#dirtyUsers.clear();
    return updates;
  }

  /** Rebuilds USER_SPENDING_BY_TYPE from its changelog (key: user and type; null deletes). */
  restoreUserSpending(key: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      const [user, type = ""] = keyParts(SPENDING_KEY, key);
      const byType = this.#spending.get(user);
      if (byType?.delete(type)) this.#spendingCount--;
      if (byType?.size === 0) this.#spending.delete(user);
      return;
    }
    const v = value as unknown as UserSpending;
    requireFields(value, ["USER_ID_HASHED", "TRANSACTION_TYPE", "LAST_TRANSACTION_AT"], [
      "TOTAL_AMOUNT_USD",
      "TRANSACTION_COUNT",
    ]);
    let byType = this.#spending.get(v.USER_ID_HASHED);
    if (!byType) this.#spending.set(v.USER_ID_HASHED, byType = new Map());
    if (!byType.has(v.TRANSACTION_TYPE)) this.#spendingCount++;
    byType.set(v.TRANSACTION_TYPE, {
      user: v.USER_ID_HASHED,
      type: v.TRANSACTION_TYPE,
      micros: toMicros(v.TOTAL_AMOUNT_USD),
      count: v.TRANSACTION_COUNT,
      lastMs: Date.parse(v.LAST_TRANSACTION_AT),
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

  snapshot(): UserTablesSnapshot {
    const userSpending: UserSpending[] = [];
    for (const byType of this.#spending.values()) {
      for (const s of byType.values()) userSpending.push(spendingValue(s));
    }
    return { userSpending, users: [...this.#users.values()].map(userValue) };
  }

  /** The tables a snapshot holds (read back through the changelog checks). */
  static fromSnapshot(snapshot: UserTablesSnapshot): UserTables {
    const tables = new UserTables();
    for (const v of snapshot.userSpending) {
      tables.restoreUserSpending("", v as unknown as Record<string, unknown>);
    }
    for (const v of snapshot.users) {
      tables.restoreUser(v.USER_ID_HASHED, v as unknown as Record<string, unknown>);
    }
    return tables;
  }

  sizes(): { userSpending: number; users: number } {
    return { userSpending: this.#spendingCount, users: this.#users.size };
  }
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

function userValue(u: UserState): UserRow {
  return { ...u.row, FIRST_SEEN_AT: iso(u.firstMs), LAST_SEEN_AT: iso(u.lastMs) };
}
