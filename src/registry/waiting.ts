/**
 * Waiting out an unreachable registry, for every caller (the lake's decoding, the processor's raw
 * decoding, its output schemas and its state restore): a call that fails with a
 * RegistryUnavailableError is retried with the backoff of the one retry policy
 * (src/kafka/retry.ts); `registry.unavailable` is logged when the outage starts (and once per log
 * window), `registry.recovered` when it ends. With a bounded policy (`--once`) it gives up after
 * the bound with a RegistryUnavailableError naming the cause; other errors go through at once.
 */
import type { Logger } from "../core/log.ts";
import { type RetryPolicy, sleep } from "../kafka/retry.ts";
import { RegistryUnavailableError } from "./errors.ts";

export interface WaitContext {
  /** What waits (a feed or topic name), for the log. */
  name: string;
  /** The registry's URL, for the log. */
  url: string;
  log: Logger;
  policy: RetryPolicy;
  signal?: AbortSignal;
}

export async function waitForRegistry<T>(ctx: WaitContext, call: () => Promise<T>): Promise<T> {
  const { log, policy, signal } = ctx;
  let attempts = 0;
  let since = 0;
  let loggedAt = 0;
  while (true) {
    try {
      const result = await call();
      if (attempts > 0) {
        log.info("registry.recovered", {
          feed: ctx.name,
          attempts,
          downSeconds: Math.round((Date.now() - since) / 1000),
        });
      }
      return result;
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError) || signal?.aborted) throw error;
      const now = Date.now();
      if (attempts === 0) since = now;
      attempts++;
      // `--once` modes give up after the policy's bound, with the cause.
      const { giveUpAfterMs } = policy;
      if (giveUpAfterMs !== undefined && now - since >= giveUpAfterMs) {
        throw new RegistryUnavailableError(
          `${error.message} (gave up after ${Math.round((now - since) / 1000)} s)`,
          { cause: error },
        );
      }
      const waitMs = Math.min(policy.maxMs, policy.initialMs * 2 ** (attempts - 1));
      if (attempts === 1 || now - loggedAt >= policy.logWindowMs) {
        loggedAt = now;
        log.warn("registry.unavailable", {
          feed: ctx.name,
          url: ctx.url,
          error: error.message,
          attempts,
          downSeconds: Math.round((now - since) / 1000),
          retryInMs: waitMs,
        });
      }
      await sleep(waitMs, signal);
      if (signal?.aborted) throw error;
    }
  }
}
