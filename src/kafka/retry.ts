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
import { DEFAULTS } from "../config/settings.ts";
import { DomainError, UnavailableError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { errorTree, KafkaAccessError, KafkaTopicMissingError } from "./errors.ts";

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
   * A part's start-up grace: a transient failure that begins within this long of the part's
   * start and clears within it is logged at debug only (kafka.settling, kafka.settled), since a
   * cold broker still creating topics and electing leaders clears within seconds. Later failures
   * (a running feed's topic deleted) are news at once. Unset: warn at once.
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

/**
 * One-shot commands (`--once`, `produce --count`): give up once an outage has lasted
 * `onceOutageMs` (ONCE_OUTAGE_SECONDS, 30 s by default; about 10 s more with the last attempt).
 */
export function waitBounded(config: { onceOutageMs?: number }): RetryPolicy {
  return {
    ...WAIT_FOREVER,
    giveUpAfterMs: config.onceOutageMs ?? DEFAULTS.onceOutageSeconds * 1000,
  };
}

/** The policy of a command: bounded with `--once`, else forever. */
export function outagePolicy(once: boolean, config: { onceOutageMs?: number }): RetryPolicy {
  return once ? waitBounded(config) : WAIT_FOREVER;
}

/**
 * Kafka error codes (the library's `apiId`) that a healthy cluster clears by itself. Beyond these,
 * the library marks the codes Kafka's own error table calls retriable (`canRetry`).
 */
const TRANSIENT_CODES = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNKNOWN_TOPIC_ID",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_OR_FOLLOWER",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
  "BROKER_NOT_AVAILABLE",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "NOT_CONTROLLER",
  "KAFKA_STORAGE_ERROR",
  "REBALANCE_IN_PROGRESS",
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "CONCURRENT_TRANSACTIONS",
  "THROTTLING_QUOTA_EXCEEDED",
  // A broker restart can abort our open transaction; a fresh producer re-initialises the id.
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "INVALID_TXN_STATE",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "TRANSACTION_ABORTABLE",
]);

/** Codes that no wait clears: access refused, a request that can never succeed. */
const PERMANENT_CODES = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "INVALID_REPLICATION_FACTOR",
  "POLICY_VIOLATION",
]);

/** The library's error classes (`code`) for "the cluster is not there (yet)". */
const TRANSIENT_CLASSES = new Set(["PLT_KFK_NETWORK", "PLT_KFK_TIMEOUT"]);

/** Socket error codes of a broker that is down or unreachable. */
const TRANSIENT_SOCKET =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|ENOTFOUND)$/;

type Described = Error & { apiId?: string; code?: string; canRetry?: boolean };

/** True when `error` is a Kafka outage that waiting clears; false for everything else. */
export function isTransientKafkaError(error: unknown): boolean {
  let transient = false;
  for (const found of errorTree(error)) {
    if (found instanceof DomainError && !(found instanceof UnavailableError)) return false;
    const e = found as Described;
    if (e.code === "PLT_KFK_AUTHENTICATION") return false;
    if (e.apiId && PERMANENT_CODES.has(e.apiId)) return false;
    if (e.apiId && (TRANSIENT_CODES.has(e.apiId) || e.canRetry === true)) transient = true;
    if (e.code && (TRANSIENT_CLASSES.has(e.code) || TRANSIENT_SOCKET.test(e.code))) {
      transient = true;
    }
  }
  return transient;
}

/** Failures of one topic: deleted or unknown, access to it denied, data we cannot decode. */
const TOPIC_CODES = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNKNOWN_TOPIC_ID",
  "INCONSISTENT_TOPIC_ID",
  "TOPIC_AUTHORIZATION_FAILED",
  "CORRUPT_MESSAGE",
  "INVALID_RECORD",
]);
const UNDECODABLE = new Set([
  "PLT_KFK_UNSUPPORTED_COMPRESSION",
  "PLT_KFK_UNSUPPORTED_FORMAT",
  "PLT_KFK_OUT_OF_BOUNDS",
]);

/**
 * True when `error` concerns one topic rather than the cluster: other topics (other feeds) read
 * on, and Kafka is not shown down for it.
 */
export function isTopicKafkaError(error: unknown): boolean {
  return errorTree(error).some((e) => {
    if (e instanceof KafkaTopicMissingError) return true;
    const d = e as Described & { hasStaleMetadata?: boolean };
    return (d.apiId !== undefined && TOPIC_CODES.has(d.apiId)) ||
      (d.code !== undefined && UNDECODABLE.has(d.code)) ||
      // The library's "no metadata for subscribed topic …" (a deleted topic).
      (d.hasStaleMetadata === true && d.apiId === undefined &&
        !errorTree(error).some((c) => (c as Described).code?.match(TRANSIENT_SOCKET)));
  });
}

/**
 * Kafka refused our credentials or our TLS setup: a one-shot command stops (exit 3), a
 * long-running part keeps retrying (credentials get rotated) and shows the cause.
 */
export function isKafkaAccessError(error: unknown): error is KafkaAccessError {
  return error instanceof KafkaAccessError;
}

/** The innermost useful message: what actually went wrong, without our own wrapping. */
export function rootMessage(error: unknown): string {
  if (error instanceof KafkaAccessError) return error.message;
  const messages = errorTree(error).map((e) => e.message.replace(/^Kafka is not reachable: /, ""));
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
  /** Log event of a retried failure that is not an outage (default `kafka.part_failed`). */
  failureEvent?: string;
}

/** One outage as seen by one caller: backoff, log windows, give-up. */
export class Outage {
  #ctx: RetryContext;
  #what: string;
  #attempts = 0;
  #since = 0;
  #loggedAt = 0;
  #warned = false;
  #bornAt = Date.now();

  constructor(what: string, ctx: RetryContext) {
    this.#what = what;
    this.#ctx = ctx;
  }

  /**
   * Records a failure: rethrows it when it is not transient or the policy gives up, else
   * resolves after the backoff (early when the signal aborts). `startedAt`: when the failed
   * attempt began (a call may wait for its own timeouts), so the outage counts from there.
   */
  async failed(error: unknown, startedAt?: number, retryAnyway = false): Promise<void> {
    const { policy, log, health } = this.#ctx;
    const access = isKafkaAccessError(error);
    const transient = isTransientKafkaError(error);
    // Refused access is retried only by parts that wait forever (`serve`): one-shot commands stop.
    // `retryAnyway`: a part that fails alone (a feed that cannot be read) is retried like an outage.
    if (access ? policy.giveUpAfterMs !== undefined : !transient && !retryAnyway) throw error;
    const now = Date.now();
    if (this.#attempts === 0) this.#since = startedAt ?? now;
    this.#attempts++;
    health?.down(error);
    const downMs = now - this.#since;
    if (policy.giveUpAfterMs !== undefined && downMs >= policy.giveUpAfterMs) {
      if (!transient) throw error;
      throw new UnavailableError(
        `Kafka is not reachable at ${this.#ctx.brokers.join(",")}: ${rootMessage(error)}`,
        { cause: error },
      );
    }
    const waitMs = Math.min(policy.maxMs, policy.initialMs * 2 ** (this.#attempts - 1));
    const event = access
      ? "kafka.access_refused"
      : transient && !isTopicKafkaError(error)
      ? "kafka.unavailable"
      : this.#ctx.failureEvent ?? "kafka.part_failed";
    const fields = {
      what: this.#what,
      error: rootMessage(error),
      ...(access ? { setting: error.setting } : {}),
      attempts: this.#attempts,
      downSeconds: Math.round(downMs / 1000),
      retryInMs: waitMs,
    };
    // A short transient outage at start-up (a cold broker creating its topics) is detail.
    const quietMs = policy.quietMs ?? 0;
    if (transient && !access && this.#since - this.#bornAt < quietMs && downMs < quietMs) {
      log.debug("kafka.settling", fields);
    } else if (!this.#warned || now - this.#loggedAt >= policy.logWindowMs) {
      this.#loggedAt = now;
      this.#warned = true;
      log.warn(event, fields);
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
