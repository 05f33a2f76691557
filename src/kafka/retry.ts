/**
 * The one retry policy for Kafka outages. A broker that is down, restarting or still settling (a
 * topic just created has no leader yet, the group coordinator is loading) is a transient
 * condition: long-running parts wait for it with capped exponential backoff and resume by
 * themselves; `--once` commands wait a bounded time and then fail with one clear line. Only
 * errors that are not transient (bad configuration, refused authorization, storage failures of
 * our own) end a part.
 *
 * Logging: one `kafka.unavailable` warning when an outage starts and at most one per window
 * after that (with the attempts made), one `kafka.recovered` line when it ends.
 */
import { DomainError, UnavailableError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

export interface RetryPolicy {
  /** First wait after a failure. */
  initialMs: number;
  /** Longest wait between attempts. */
  maxMs: number;
  /** At most one warning line per this long while the outage lasts. */
  logWindowMs: number;
  /** Give up once the outage has lasted this long (`--once` modes); unset: never give up. */
  giveUpAfterMs?: number;
  /**
   * An outage shorter than this is logged at debug only (kafka.settling, kafka.settled): a cold
   * broker still creating topics and electing leaders clears within seconds. Unset: warn at once.
   */
  quietMs?: number;
}

/** `serve`, `consume` and `process` without --once: wait for Kafka forever. */
export const WAIT_FOREVER: RetryPolicy = {
  initialMs: 500,
  maxMs: 10_000,
  logWindowMs: 60_000,
  quietMs: 15_000,
};

/** `--once` modes: give up once an outage has lasted 30 s (about 40 s with the last attempt). */
export const WAIT_BOUNDED: RetryPolicy = { ...WAIT_FOREVER, giveUpAfterMs: 30_000 };

/** Kafka error codes (kafkajs `type`) that a healthy cluster clears by itself. */
const TRANSIENT_TYPES = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_FOR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
  "NOT_COORDINATOR",
  "GROUP_LOAD_IN_PROGRESS",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "NOT_CONTROLLER",
  "KAFKA_STORAGE_ERROR",
  "REBALANCE_IN_PROGRESS",
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "CONCURRENT_TRANSACTIONS",
  // A broker restart can abort our open transaction; a fresh producer re-initialises the id.
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "INVALID_TXN_STATE",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
]);

/** kafkajs error classes that mean "the cluster is not there (yet)". */
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSStaleTopicMetadataAssignment",
  "KafkaJSLockTimeout",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSTimeout",
]);

const TRANSIENT_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|ENOTFOUND)$/;

type Described = Error & { type?: string; code?: string; retriable?: boolean };

/** The error and what it wraps (`cause`, kafkajs' `originalError`), outermost first. */
function chain(error: unknown): Described[] {
  const out: Described[] = [];
  let current: unknown = error;
  while (current instanceof Error && out.length < 10 && !out.includes(current as Described)) {
    out.push(current as Described);
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.cause ?? next.originalError;
  }
  return out;
}

/** True when `error` is a Kafka outage that waiting clears; false for everything else. */
export function isTransientKafkaError(error: unknown): boolean {
  for (const e of chain(error)) {
    if ((e as Error) instanceof DomainError && !((e as Error) instanceof UnavailableError)) {
      return false;
    }
    // Kafka's own error table (kafkajs `retriable`) marks the codes a client should retry.
    if (e.type && (TRANSIENT_TYPES.has(e.type) || e.retriable === true)) return true;
    if (TRANSIENT_NAMES.has(e.name)) return true;
    if (e.code && TRANSIENT_CODES.test(e.code)) return true;
    if (e.name.startsWith("KafkaJS") && e.retriable === true && e.type === undefined) return true;
  }
  return false;
}

/** The innermost useful message: what actually went wrong, without our own wrapping. */
export function rootMessage(error: unknown): string {
  const messages = chain(error).map((e) => e.message.replace(/^Kafka is not reachable: /, ""));
  return messages.filter(Boolean).at(-1) ?? String(error);
}

/** Whether Kafka answered lately, as this process saw it; read by /status and /metrics. */
export interface KafkaHealthSnapshot {
  up: boolean;
  /** Since when it has been up or down (ISO time). */
  since: string;
  /** Why it is down. */
  error?: string;
}

export class KafkaHealth {
  #up = true;
  #since = Date.now();
  #lastUp = 0;
  #error?: string;

  /** Kafka answered (called on every fetch: keep it cheap). */
  up(): void {
    this.#lastUp = Date.now();
    if (this.#up) return;
    this.#up = true;
    this.#since = Date.now();
    this.#error = undefined;
  }

  down(error: unknown): void {
    this.#error = rootMessage(error);
    if (!this.#up) return;
    this.#up = false;
    this.#since = Date.now();
  }

  /** When Kafka last answered (0: never). */
  lastUpAt(): number {
    return this.#lastUp;
  }

  snapshot(): KafkaHealthSnapshot {
    const since = new Date(this.#since).toISOString();
    return this.#up ? { up: true, since } : { up: false, since, error: this.#error };
  }
}

export interface RetryContext {
  policy: RetryPolicy;
  log: Logger;
  /** For the give-up message. */
  brokers: readonly string[];
  health?: KafkaHealth;
  signal?: AbortSignal;
}

/** One outage as seen by one caller: backoff, log windows, give-up. */
export class Outage {
  #ctx: RetryContext;
  #what: string;
  #attempts = 0;
  #since = 0;
  #loggedAt = 0;
  #warned = false;

  constructor(what: string, ctx: RetryContext) {
    this.#what = what;
    this.#ctx = ctx;
  }

  /**
   * Records a failure: rethrows it when it is not transient or the policy gives up, else
   * resolves after the backoff (early when the signal aborts). `startedAt`: when the failed
   * attempt began (kafkajs retries inside one call for about 20 s), so the outage counts
   * from there.
   */
  async failed(error: unknown, startedAt?: number): Promise<void> {
    const { policy, log, health } = this.#ctx;
    if (!isTransientKafkaError(error)) throw error;
    const now = Date.now();
    if (this.#attempts === 0) this.#since = startedAt ?? now;
    this.#attempts++;
    health?.down(error);
    const downMs = now - this.#since;
    if (policy.giveUpAfterMs !== undefined && downMs >= policy.giveUpAfterMs) {
      throw new UnavailableError(
        `Kafka is not reachable at ${this.#ctx.brokers.join(",")}: ${rootMessage(error)}`,
        { cause: error },
      );
    }
    const waitMs = Math.min(policy.maxMs, policy.initialMs * 2 ** (this.#attempts - 1));
    const fields = {
      what: this.#what,
      error: rootMessage(error),
      attempts: this.#attempts,
      downSeconds: Math.round(downMs / 1000),
      retryInMs: waitMs,
    };
    if (downMs < (policy.quietMs ?? 0)) {
      log.debug("kafka.settling", fields);
    } else if (!this.#warned || now - this.#loggedAt >= policy.logWindowMs) {
      this.#loggedAt = now;
      this.#warned = true;
      log.warn("kafka.unavailable", fields);
    }
    await sleep(waitMs, this.#ctx.signal);
  }

  /** Records a success; logs the end of the outage if there was one. */
  succeeded(): void {
    this.#ctx.health?.up();
    if (this.#attempts === 0) return;
    const fields = {
      what: this.#what,
      attempts: this.#attempts,
      downSeconds: Math.round((Date.now() - this.#since) / 1000),
    };
    // The end of a warned outage is news; the end of a quiet one (a cold start) is detail.
    if (this.#warned) this.#ctx.log.info("kafka.recovered", fields);
    else this.#ctx.log.debug("kafka.settled", fields);
    this.#attempts = 0;
    this.#warned = false;
  }
}

/** Runs `call` until it succeeds, retrying transient Kafka failures under the policy. */
export async function retryKafka<T>(
  what: string,
  call: () => Promise<T>,
  ctx: RetryContext,
): Promise<T> {
  const outage = new Outage(what, ctx);
  while (true) {
    const startedAt = Date.now();
    try {
      const result = await call();
      outage.succeeded();
      return result;
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      await outage.failed(error, startedAt);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
