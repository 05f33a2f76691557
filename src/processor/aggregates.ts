/**
 * The processor's tables: USER_SPENDING_BY_TYPE, SPEND_LAST_FIVE_MIN_BY_TYPE and USERS. State lives
 * in memory and is rebuilt at start from the tables' own changelog topics (`restore`), so totals
 * survive a restart. `apply` folds one converted transaction in; `drain` hands out what changed
 * since the last drain, one update per key (per window), as Kafka Streams' cache would: the
 * updates of one batch go out in one Kafka transaction, so intermediate values are never visible.
 *
 * Bounded: windows that end more than the grace period (WINDOW_GRACE_MS, 7 days of event time)
 * before the newest event seen are evicted at each drain. A later event for an evicted window is
 * left out of the windows table (counted in `lateEvents`, logged by the processor); it still
 * reaches every stream, USER_SPENDING_BY_TYPE and USERS, so nothing is lost but its stale window.
 * Sums are exact integers of micro-dollars: a record that would take a total past
 * Number.MAX_SAFE_INTEGER micro-dollars (about 9.007 billion USD) is refused by `apply`, with a
 * reason, and changes nothing (the processor quarantines it).
 */
import { keyParts } from "../contract/record.ts";
import { requireFields } from "./changelog_values.ts";
import { toMicros, typeOrUnknown, type UsdTransaction } from "./transform.ts";

const WINDOW_MS = 5 * 60 * 1000;
/** How far behind the newest event time a window is still kept and updated. */
export const WINDOW_GRACE_MS = 7 * 24 * 60 * 60 * 1000;
/** The largest exact total, in micro-dollars. */
const MAX_MICROS = Number.MAX_SAFE_INTEGER;
/** USER_SPENDING_BY_TYPE's key fields, to read its changelog keys in either form. */
const SPENDING_KEY = { primaryKey: ["USER_ID_HASHED", "TRANSACTION_TYPE"] };

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
  /** WINDOW_START and WINDOW_END, formatted once. */
  startIso: string;
  endIso: string;
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

export interface AggregatesOptions {
  /** Windows ending this far before the newest event time are evicted (default 7 days). */
  graceMs?: number;
}

export class Aggregates {
  readonly #graceMs: number;
  /** Newest event time seen (applied or restored): eviction and lateness are relative to it. */
  #newestMs = -Infinity;
  #late = 0;
  #evicted = 0;
  /** user → type → totals (nested: no composite key string built per record). */
  #spending = new Map<string, Map<string, SpendingState>>();
  #spendingCount = 0;
  /** type → window start → totals. */
  #windows = new Map<string, Map<number, WindowState>>();
  #windowCount = 0;
  #users = new Map<string, UserState>();
  // Dirty states themselves, in order of first change since the last drain.
  #dirtySpending = new Set<SpendingState>();
  #dirtyWindows = new Set<WindowState>();
  #dirtyUsers = new Set<UserState>();

  constructor(options: AggregatesOptions = {}) {
    this.#graceMs = options.graceMs ?? WINDOW_GRACE_MS;
  }

  /**
   * Folds one converted transaction (event time `eventMs`) into the three tables. Returns the
   * reason when it cannot (a total would leave the exact range); nothing is changed then.
   */
  apply(tx: UsdTransaction, eventMs: number): string | undefined {
    const type = typeOrUnknown(tx.TRANSACTION_TYPE);
    const micros = toMicros(tx.AMOUNT_USD);
    if (!Number.isSafeInteger(micros) || micros < 0) {
      return `AMOUNT_USD ${tx.AMOUNT_USD} is outside the range the totals keep exactly`;
    }
    let byType = this.#spending.get(tx.USER_ID_HASHED);
    const spending = byType?.get(type);
    if ((spending?.micros ?? 0) + micros > MAX_MICROS) {
      return `AMOUNT_USD ${tx.AMOUNT_USD} would take TOTAL_AMOUNT_USD of USER_SPENDING_BY_TYPE ` +
        `past ${MAX_MICROS / 1e6}`;
    }
    const startMs = windowStart(eventMs);
    const late = startMs + WINDOW_MS <= this.#newestMs - this.#graceMs;
    let byStart = this.#windows.get(type);
    const window = late ? undefined : byStart?.get(startMs);
    if ((window?.micros ?? 0) + micros > MAX_MICROS) {
      return `AMOUNT_USD ${tx.AMOUNT_USD} would take TOTAL_AMOUNT_USD of the ${type} window ` +
        `at ${iso(startMs)} past ${MAX_MICROS / 1e6}`;
    }

    let s = spending;
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

    if (late) {
      this.#late++;
    } else {
      let w = window;
      if (!w) {
        w = newWindow(type, startMs, 0, 0);
        if (!byStart) this.#windows.set(type, byStart = new Map());
        byStart.set(startMs, w);
        this.#windowCount++;
      }
      w.micros += micros;
      w.count += 1;
      this.#dirtyWindows.add(w);
      if (eventMs > this.#newestMs) this.#newestMs = eventMs;
    }

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
    return undefined;
  }

  /**
   * The current value of every key changed since the last drain, in order of first change; then
   * windows past the grace period are evicted.
   */
  drain(): AggregateUpdates {
    const updates: AggregateUpdates = {
      userSpending: [...this.#dirtySpending].map(spendingValue),
      windows: [...this.#dirtyWindows].map(windowValue),
      users: [...this.#dirtyUsers].map(userValue),
    };
    this.#dirtySpending.clear();
    this.#dirtyWindows.clear();
    this.#dirtyUsers.clear();
    this.evict();
    return updates;
  }

  /** Drops windows that ended more than the grace period before the newest event time. */
  evict(): void {
    const horizon = this.#newestMs - this.#graceMs;
    for (const [type, byStart] of this.#windows) {
      for (const startMs of byStart.keys()) {
        if (startMs + WINDOW_MS > horizon) continue;
        byStart.delete(startMs);
        this.#windowCount--;
        this.#evicted++;
      }
      if (byStart.size === 0) this.#windows.delete(type);
    }
  }

  /** Events left out of the windows table for being late, and windows evicted, so far. */
  counters(): { lateEvents: number; evictedWindows: number } {
    return { lateEvents: this.#late, evictedWindows: this.#evicted };
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

  /** Rebuilds the windows: every window update is on the topic; a tombstone drops the type. */
  restoreWindow(key: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      this.#windowCount -= this.#windows.get(key)?.size ?? 0;
      this.#windows.delete(key);
      return;
    }
    const v = value as unknown as WindowSpend;
    requireFields(value, ["TRANSACTION_TYPE", "WINDOW_START"], [
      "TOTAL_AMOUNT_USD",
      "TRANSACTION_COUNT",
    ]);
    const startMs = Date.parse(v.WINDOW_START);
    // The newest restored window stands for the newest event time (its start is a lower bound).
    if (startMs > this.#newestMs) this.#newestMs = startMs;
    let byStart = this.#windows.get(v.TRANSACTION_TYPE);
    if (!byStart) this.#windows.set(v.TRANSACTION_TYPE, byStart = new Map());
    if (!byStart.has(startMs)) this.#windowCount++;
    const window = newWindow(
      v.TRANSACTION_TYPE,
      startMs,
      toMicros(v.TOTAL_AMOUNT_USD),
      v.TRANSACTION_COUNT,
    );
    byStart.set(startMs, window);
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
      userSpending: this.#spendingCount,
      windows: this.#windowCount,
      users: this.#users.size,
    };
  }
}

function newWindow(type: string, startMs: number, micros: number, count: number): WindowState {
  return { type, startMs, micros, count, startIso: iso(startMs), endIso: iso(startMs + WINDOW_MS) };
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
    WINDOW_START: w.startIso,
    WINDOW_END: w.endIso,
  };
}

function userValue(u: UserState): UserRow {
  return { ...u.row, FIRST_SEEN_AT: iso(u.firstMs), LAST_SEEN_AT: iso(u.lastMs) };
}
