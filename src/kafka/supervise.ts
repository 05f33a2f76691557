/**
 * Keeps a long-running Kafka part (the lake consumer, the processor) alive across outages: when
 * starting it or running it fails with a transient Kafka error, the part is stopped completely
 * (its batch in hand finished or dropped, its consumers gone) and started again after the
 * backoff of retry.ts. Restarting is safe because both parts resume from what they committed:
 * the lake from its checkpoint and group offsets, the processor from its transaction offsets
 * and changelogs. With `retryStorageAfterMs`, a storage failure (disk full, I/O error) restarts
 * the part after that pause too: `serve` keeps running while an operator frees space, and the
 * lake consumer repairs its files from the checkpoint when it opens again. Any other error ends
 * the part, as before.
 */
import { StorageError } from "../core/errors.ts";
import { isTransientKafkaError, Outage, type RetryContext, sleep } from "./retry.ts";

export interface Part<R> {
  done: Promise<R>;
  stop(): Promise<void>;
}

export interface Supervised<P> {
  /** Resolves when the part ends normally (caught up, or stopped); rejects on a fatal error. */
  done: Promise<unknown>;
  /** Stops the part (or the wait for the next attempt). */
  stop(): Promise<void>;
  /** The running instance, if any. */
  current(): P | undefined;
}

/** A run this long without failing, with Kafka answering, ends the outage. */
const STABLE_MS = 15_000;

export interface SuperviseOptions {
  /** Restart after a StorageError, this long after it (default: a StorageError ends the part). */
  retryStorageAfterMs?: number;
  /**
   * Errors that are no outage but that this part alone is restarted for, after the same backoff
   * (a feed that cannot be read: its topic deleted, access to it denied). Default: none.
   */
  alsoRetry?: (error: unknown) => boolean;
}

export function supervise<P extends Part<unknown>>(
  name: string,
  start: () => Promise<P> | P,
  ctx: RetryContext,
  options: SuperviseOptions = {},
): Supervised<P> {
  const stopping = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stopping.signal]) : stopping.signal;
  const outage = new Outage(name, { ...ctx, signal });
  let current: P | undefined;

  const run = async (): Promise<unknown> => {
    while (true) {
      let part: P;
      const startedAt = Date.now();
      try {
        part = await start();
      } catch (error) {
        if (signal.aborted) return undefined;
        await outage.failed(error, startedAt, options.alsoRetry?.(error));
        continue;
      }
      current = part;
      if (signal.aborted) await part.stop();
      // A part may start before it reaches Kafka (the processor connects inside `done`): only
      // Kafka answering since the start (health, fed by every fetch) proves the outage over.
      let healthy = false;
      const check = setInterval(() => {
        const answered = !ctx.health || ctx.health.lastUpAt() >= startedAt;
        if (!healthy && answered && Date.now() - startedAt >= STABLE_MS) {
          healthy = true;
          outage.succeeded();
        }
      }, 1000);
      try {
        const result = await part.done;
        outage.succeeded();
        return result;
      } catch (error) {
        if (signal.aborted) {
          if (isTransientKafkaError(error)) return undefined; // stopped during an outage
          throw error;
        }
        // Fully down before the next instance opens the same lake, group and transactional id.
        await part.stop().catch(() => {});
        await part.done.catch(() => {});
        current = undefined;
        const pause = options.retryStorageAfterMs;
        if (pause !== undefined && error instanceof StorageError) {
          ctx.log.error("storage.failed", { what: name, error: error.message, retryInMs: pause });
          await sleep(pause, signal);
          if (signal.aborted) return undefined;
          continue;
        }
        await outage.failed(error, healthy ? undefined : startedAt, options.alsoRetry?.(error));
        if (signal.aborted) return undefined;
      } finally {
        clearInterval(check);
      }
    }
  };

  const done = run();
  return {
    done,
    async stop() {
      stopping.abort();
      await current?.stop();
      await done.catch(() => {});
    },
    current: () => current,
  };
}
