/**
 * Keeps the costly parts of /status (Kafka round trips, a stat of every lake file, row counts)
 * for a few seconds, so a dashboard or a curl loop costs the service almost nothing. Callers
 * that arrive while a value is being computed share that one computation.
 */
export class TtlCache {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(ttlMs = 5000, now: () => number = () => performance.now()) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The value kept under `key` if younger than the TTL, else what `load` gives (then kept). */
  get<T>(key: string, load: () => Promise<T> | T): Promise<T> {
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.value as Promise<T>;
    const value = Promise.resolve().then(load);
    this.#entries.set(key, { at: now, value });
    // A failure is not kept: the next call tries again.
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    return value;
  }
}

/** A cache that keeps nothing: the `status` command asks once and exits. */
export const noCache: Pick<TtlCache, "get"> = {
  get: <T>(_key: string, load: () => Promise<T> | T) => Promise.resolve().then(load),
};
