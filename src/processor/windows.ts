/**
 * SPEND_LAST_FIVE_MIN_BY_TYPE across instances. A type's window sums transactions of every user,
 * so of every raw partition: no instance sees them all. Stage one (the raw batch) folds its
 * transactions into exact per-(type, window) deltas (`WindowDeltas`, integer micro-dollars) and
 * writes them, in the same Kafka transaction as its other outputs, to the internal repartition
 * topic, keyed and partitioned by type. Stage two (`WindowTables`, one per repartition partition)
 * adds the deltas to its windows and writes the updated windows, again in a transaction with its
 * offsets. Each delta is counted once (exactly once end to end), and integer sums do not depend
 * on the order they arrive in, so totals are the same with any number of instances.
 *
 * Bounded: windows that end more than the grace period (WINDOW_GRACE_MS, 7 days of event time)
 * before the newest event stage two has seen are evicted at each drain. A later delta for an
 * evicted window is left out (its events counted in `lateEvents`); its transactions still reach
 * every stream and the per-user tables.
 */
import { requireFields } from "./changelog_values.ts";
import { toMicros } from "./transform.ts";
import { MAX_MICROS } from "./user_tables.ts";

export const WINDOW_MS = 5 * 60 * 1000;
/** How far behind the newest event time a window is still kept and updated. */
export const WINDOW_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

export interface WindowSpend {
  TRANSACTION_TYPE: string;
  TOTAL_AMOUNT_USD: number;
  TRANSACTION_COUNT: number;
  WINDOW_START: string;
  WINDOW_END: string;
}

/** One record of the repartition topic: what one raw batch adds to one window. */
export interface WindowDelta {
  TRANSACTION_TYPE: string;
  WINDOW_START_MS: number;
  MICROS: number;
  COUNT: number;
  /** The newest event time among the delta's transactions (stage two's stream time). */
  MAX_EVENT_MS: number;
}

/** Start of the tumbling window holding `ms`: windows are [start, start + 5 min). */
export function windowStart(ms: number): number {
  return Math.floor(ms / WINDOW_MS) * WINDOW_MS;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Stage one: the window deltas of one raw batch. */
export class WindowDeltas {
  #byType = new Map<string, Map<number, WindowDelta>>();

  /** The reason `micros` cannot join its window's delta exactly, if any. */
  check(type: string, eventMs: number, micros: number): string | undefined {
    const startMs = windowStart(eventMs);
    const delta = this.#byType.get(type)?.get(startMs);
    if ((delta?.MICROS ?? 0) + micros > MAX_MICROS) {
      return `AMOUNT_USD ${micros / 1e6} would take TOTAL_AMOUNT_USD of the ${type} window at ` +
        `${iso(startMs)} past ${MAX_MICROS / 1e6}`;
    }
    return undefined;
  }

  add(type: string, eventMs: number, micros: number): void {
    const startMs = windowStart(eventMs);
    let byStart = this.#byType.get(type);
    if (!byStart) this.#byType.set(type, byStart = new Map());
    const delta = byStart.get(startMs);
    if (!delta) {
      byStart.set(startMs, {
        TRANSACTION_TYPE: type,
        WINDOW_START_MS: startMs,
        MICROS: micros,
        COUNT: 1,
        MAX_EVENT_MS: eventMs,
      });
      return;
    }
    delta.MICROS += micros;
    delta.COUNT += 1;
    if (eventMs > delta.MAX_EVENT_MS) delta.MAX_EVENT_MS = eventMs;
  }

  /** Every delta, by type then window in order of first appearance; empties the collector. */
  take(): WindowDelta[] {
    const out: WindowDelta[] = [];
    for (const byStart of this.#byType.values()) out.push(...byStart.values());
    this.#byType.clear();
    return out;
  }
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

/** Whole state as plain JSON: what a snapshot file holds. */
export interface WindowTablesSnapshot {
  newestMs: number | null;
  windows: WindowSpend[];
}

export interface WindowsOptions {
  /** Windows ending this far before the newest event time are evicted (default 7 days). */
  graceMs?: number;
}

/** Stage two: the windows of the types of one repartition partition. */
export class WindowTables {
  readonly #graceMs: number;
  /** Newest event time seen (applied or restored): eviction and lateness are relative to it. */
  #newestMs = -Infinity;
  #late = 0;
  #evicted = 0;
  #overflowed = 0;
  /** type → window start → totals. */
  #windows = new Map<string, Map<number, WindowState>>();
  #windowCount = 0;
  #dirty = new Set<WindowState>();

  constructor(options: WindowsOptions = {}) {
    this.#graceMs = options.graceMs ?? WINDOW_GRACE_MS;
  }

  /**
   * Adds one delta. Returns why it was left out: "late" (its window is past the grace period) or
   * a reason naming the window whose total would leave the exact range.
   */
  apply(delta: WindowDelta): string | undefined {
    const { TRANSACTION_TYPE: type, WINDOW_START_MS: startMs } = delta;
    if (startMs + WINDOW_MS <= this.#newestMs - this.#graceMs) {
      this.#late += delta.COUNT;
      return "late";
    }
    let byStart = this.#windows.get(type);
    let w = byStart?.get(startMs);
    if ((w?.micros ?? 0) + delta.MICROS > MAX_MICROS) {
      this.#overflowed += delta.COUNT;
      return `the ${type} window at ${iso(startMs)} would pass ${MAX_MICROS / 1e6} USD`;
    }
    if (!w) {
      w = newWindow(type, startMs, 0, 0);
      if (!byStart) this.#windows.set(type, byStart = new Map());
      byStart.set(startMs, w);
      this.#windowCount++;
    }
    w.micros += delta.MICROS;
    w.count += delta.COUNT;
    this.#dirty.add(w);
    if (delta.MAX_EVENT_MS > this.#newestMs) this.#newestMs = delta.MAX_EVENT_MS;
    return undefined;
  }

  /** The windows changed since the last drain, in order of first change; then evicts. */
  drain(): WindowSpend[] {
    const updates = [...this.#dirty].map(windowValue);
    this.#dirty.clear();
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

  /** Events left out for being late or for overflowing, and windows evicted, so far. */
  counters(): { lateEvents: number; overflowedEvents: number; evictedWindows: number } {
    return {
      lateEvents: this.#late,
      overflowedEvents: this.#overflowed,
      evictedWindows: this.#evicted,
    };
  }

  /** Rebuilds the windows from the feed: every window update is on it; a tombstone drops the type. */
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
    byStart.set(
      startMs,
      newWindow(v.TRANSACTION_TYPE, startMs, toMicros(v.TOTAL_AMOUNT_USD), v.TRANSACTION_COUNT),
    );
  }

  snapshot(): WindowTablesSnapshot {
    const windows: WindowSpend[] = [];
    for (const byStart of this.#windows.values()) {
      for (const w of byStart.values()) windows.push(windowValue(w));
    }
    return { newestMs: Number.isFinite(this.#newestMs) ? this.#newestMs : null, windows };
  }

  static fromSnapshot(snapshot: WindowTablesSnapshot, options: WindowsOptions = {}): WindowTables {
    const tables = new WindowTables(options);
    for (const w of snapshot.windows) {
      tables.restoreWindow(w.TRANSACTION_TYPE, w as unknown as Record<string, unknown>);
    }
    if (typeof snapshot.newestMs === "number" && snapshot.newestMs > tables.#newestMs) {
      tables.#newestMs = snapshot.newestMs;
    }
    return tables;
  }

  sizes(): { windows: number } {
    return { windows: this.#windowCount };
  }
}

function newWindow(type: string, startMs: number, micros: number, count: number): WindowState {
  return { type, startMs, micros, count, startIso: iso(startMs), endIso: iso(startMs + WINDOW_MS) };
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

/** A repartition record's value read back; throws RangeError on anything else. */
export function parseDelta(value: Record<string, unknown>): WindowDelta {
  requireFields(value, ["TRANSACTION_TYPE"], [
    "WINDOW_START_MS",
    "MICROS",
    "COUNT",
    "MAX_EVENT_MS",
  ]);
  const delta = value as unknown as WindowDelta;
  if (!Number.isSafeInteger(delta.MICROS) || delta.MICROS < 0 || !(delta.COUNT > 0)) {
    throw new RangeError("MICROS or COUNT is out of range");
  }
  return delta;
}
