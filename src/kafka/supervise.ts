/**
 * Keeps a long-running Kafka part (the lake consumer, the processor) alive across outages: when
 * starting it or running it fails with a transient Kafka error, the part is stopped completely
 * (its batch in hand finished or dropped, its consumers gone) and started again after the
 * backoff of retry.ts. Restarting is safe because both parts resume from what they committed:
 * the lake from its checkpoint and group offsets, the processor from its transaction offsets
 * and changelogs. Any other error ends the part, as before.
 */
import { isTransientKafkaError, Outage, type RetryContext } from "./retry.ts";

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

export function supervise<P extends Part<unknown>>(
  name: string,
  start: () => Promise<P> | P,
  ctx: RetryContext,
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
        await outage.failed(error, startedAt);
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
        await outage.failed(error, healthy ? undefined : startedAt);
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
