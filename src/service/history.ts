/**
 * What `serve` remembers of the last hour of flow, for the dashboard's charts and the terminal's
 * periodic summary: a bounded ring of samples of the in-process counters (ServiceStats), taken
 * every few seconds. Nothing is read from Kafka or disk; memory is capped by `capacity`.
 */
import type { ServiceStats } from "./stats.ts";

export interface FlowSample {
  /** Epoch milliseconds. */
  t: number;
  /** Records written into the lake per feed since serve started. */
  lake: Record<string, number>;
  /** Records quarantined by the lake per feed since serve started. */
  quarantined: Record<string, number>;
  /** Processor totals since serve started (0 when no processor runs here). */
  processorIn: number;
  processorOut: number;
  processorRejected: number;
}

/**
 * GET /status/history: rates per minute between samples, as columns (one value per time, the
 * shape charts take), and per-feed live figures.
 */
export interface FlowHistoryView {
  intervalMs: number;
  processor: boolean;
  /** ISO times, oldest first; every column below has one value per time. */
  times: string[];
  /** Records per minute into the lake, per feed. */
  lake: Record<string, number[]>;
  processorIn: number[];
  processorOut: number[];
  feeds: Record<string, { records: number; quarantined: number; lastRecordAt: string | null }>;
  processorRejected: number;
}

export interface FlowHistoryOptions {
  /** Milliseconds between samples (default 10 s). */
  intervalMs?: number;
  /** Samples kept (default: one hour's worth). */
  capacity?: number;
  now?: () => number;
}

export class FlowHistory {
  readonly intervalMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #stats: ServiceStats;
  readonly #samples: FlowSample[] = [];
  readonly #lastRecordAt = new Map<string, number>();

  constructor(stats: ServiceStats, options: FlowHistoryOptions = {}) {
    this.#stats = stats;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.#capacity = options.capacity ?? Math.ceil(3_600_000 / this.intervalMs) + 1;
    this.#now = options.now ?? Date.now;
  }

  /** Reads the counters now and keeps the sample (the oldest goes once full). */
  sample(): FlowSample {
    const lake: Record<string, number> = {};
    const quarantined: Record<string, number> = {};
    for (const [feed, c] of Object.entries(this.#stats.lake?.() ?? {})) {
      lake[feed] = c.consumed;
      quarantined[feed] = c.rejected;
    }
    const p = this.#stats.processor?.();
    const sample: FlowSample = {
      t: this.#now(),
      lake,
      quarantined,
      processorIn: p?.recordsIn ?? 0,
      processorOut: p ? Object.values(p.out).reduce((a, b) => a + b, 0) : 0,
      processorRejected: p?.rejected ?? 0,
    };
    const previous = this.#samples.at(-1);
    for (const [feed, n] of Object.entries(lake)) {
      if (n > (previous?.lake[feed] ?? 0)) this.#lastRecordAt.set(feed, sample.t);
    }
    this.#samples.push(sample);
    if (this.#samples.length > this.#capacity) this.#samples.shift();
    return sample;
  }

  /** Kept samples, oldest first. */
  samples(): readonly FlowSample[] {
    return this.#samples;
  }

  /** The sample at least `ms` older than the newest one (or the oldest kept). */
  sampleBefore(ms: number): FlowSample | undefined {
    const newest = this.#samples.at(-1);
    if (!newest) return undefined;
    for (let i = this.#samples.length - 1; i >= 0; i--) {
      if (newest.t - this.#samples[i].t >= ms) return this.#samples[i];
    }
    return this.#samples[0];
  }

  view(): FlowHistoryView {
    const newest = this.#samples.at(-1);
    const view: Pick<FlowHistoryView, "times" | "lake" | "processorIn" | "processorOut"> = {
      times: [],
      lake: Object.fromEntries(Object.keys(newest?.lake ?? {}).map((feed) => [feed, []])),
      processorIn: [],
      processorOut: [],
    };
    for (let i = 1; i < this.#samples.length; i++) {
      const a = this.#samples[i - 1], b = this.#samples[i];
      const perMinute = (x: number, y: number) =>
        Math.max(0, Math.round(((y - x) * 60_000) / Math.max(b.t - a.t, 1)));
      view.times.push(new Date(b.t).toISOString());
      for (const [feed, column] of Object.entries(view.lake)) {
        column.push(perMinute(a.lake[feed] ?? 0, b.lake[feed] ?? 0));
      }
      view.processorIn.push(perMinute(a.processorIn, b.processorIn));
      view.processorOut.push(perMinute(a.processorOut, b.processorOut));
    }
    const feeds: FlowHistoryView["feeds"] = {};
    for (const feed of Object.keys(newest?.lake ?? {})) {
      const last = this.#lastRecordAt.get(feed);
      feeds[feed] = {
        records: newest!.lake[feed],
        quarantined: newest!.quarantined[feed] ?? 0,
        lastRecordAt: last === undefined ? null : new Date(last).toISOString(),
      };
    }
    return {
      intervalMs: this.intervalMs,
      processor: this.#stats.processor !== undefined,
      ...view,
      feeds,
      processorRejected: newest?.processorRejected ?? 0,
    };
  }
}
