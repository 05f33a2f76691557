/**
 * The fake producer: publishes CURRENCY_RATES, then `count` raw transactions keyed by USER_ID,
 * as fast as the broker takes them (in batches) or paced at `rate` records per second.
 *
 * A Kafka outage is waited out under retry.ts: without --count (paced, until stopped) for as long
 * as it lasts, otherwise a bounded time, then one error naming the cause. A leader change is
 * ridden out below that, by the client's own retries of each produce call (pk_producer.ts).
 */
import type { Config } from "../config/config.ts";
import { findFeed } from "../config/config.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaClient, OutgoingRecord } from "../kafka/client.ts";
import { outagePolicy, retryKafka } from "../kafka/retry.ts";
import { rawTopicSpec, topicSpecForFeed } from "../kafka/topics.ts";
import { currencyRateRecords } from "./rates.ts";
import { transactionGenerator } from "./transactions.ts";
import { POOL_SEED, userPool } from "./users.ts";

export interface ProducerOptions {
  config: Config;
  kafka: KafkaClient;
  log: Logger;
  /** Transactions to send; undefined = until `signal` aborts (only with a rate). */
  count?: number;
  /** Records per second; undefined = as fast as possible. */
  rate?: number;
  /** Size of the user pool (default 200). */
  users?: number;
  /** Seed of the transactions; random when absent. */
  seed?: number;
  signal?: AbortSignal;
  /** Event times end here (default now); tests fix it to compare runs. */
  now?: number;
  /** Topics by role, for tests; default config.rawTopic and the CURRENCY_RATES feed. */
  topics?: { raw?: string; rates?: string };
  /** Called after each acknowledged batch with the running total. */
  onProgress?: (sent: number) => void;
}

export interface ProducerResult {
  sent: number;
  rates: number;
  seed: number;
}

const BATCH = 2000;
/** Paced sending ticks ten times a second. */
const TICK_MS = 100;

export async function runProducer(options: ProducerOptions): Promise<ProducerResult> {
  const { config, kafka, count, rate, signal } = options;
  const log = options.log.child({ component: "producer" });
  if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
    throw new UsageError(`--count must be a whole number >= 0, got ${count}`);
  }
  if (rate !== undefined && !(rate > 0)) {
    throw new UsageError(`--rate must be a number of records per second > 0, got ${rate}`);
  }
  const poolSize = options.users ?? 200;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 99999) {
    throw new UsageError(`--users must be a whole number from 1 to 99999, got ${poolSize}`);
  }
  const ratesFeed = findFeed(config, "CURRENCY_RATES");
  if (!ratesFeed) throw new ConfigError("feed CURRENCY_RATES is not declared");
  const rawTopic = options.topics?.raw ?? config.rawTopic;
  const ratesTopic = options.topics?.rates ?? ratesFeed.name;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);

  const retry = {
    policy: outagePolicy(count !== undefined || rate === undefined, config),
    log: log.child({ component: "kafka" }),
    brokers: config.kafka.brokers,
    signal,
  };
  await retryKafka("creating topics", () =>
    kafka.ensureTopics([
      rawTopicSpec(rawTopic),
      { ...topicSpecForFeed(ratesFeed), topic: ratesTopic },
    ]), retry);
  const producer = await retryKafka("connecting the producer", () => kafka.producer(), retry);
  // The same records again after an outage the client's own retries could not ride out: only
  // then may a call that was partly written before the failure be written twice.
  const send = (records: OutgoingRecord[]) =>
    retryKafka("producing", () => producer.send(records), retry);
  let sent = 0;
  try {
    const rates = currencyRateRecords();
    await send(rates.map((r) => ({
      topic: ratesTopic,
      key: r.CURRENCY,
      value: JSON.stringify(r),
    })));

    const next = transactionGenerator({
      seed,
      users: userPool(POOL_SEED, poolSize),
      now: options.now ?? Date.now(),
    });
    const take = (n: number): OutgoingRecord[] =>
      Array.from({ length: n }, () => {
        const tx = next();
        return { topic: rawTopic, key: tx.USER_ID, value: JSON.stringify(tx) };
      });
    const total = count ?? (rate === undefined ? 1000 : Infinity);
    log.info("producer.started", { topic: rawTopic, count: total, rate, users: poolSize, seed });

    const started = performance.now();
    while (sent < total && !signal?.aborted) {
      let n = Math.min(BATCH, total - sent);
      if (rate !== undefined) {
        // Send what the rate allows by now, then sleep a tick.
        const due = Math.floor(((performance.now() - started) / 1000) * rate) + 1;
        n = Math.min(n, Math.max(0, due - sent));
        if (n === 0) {
          await sleep(TICK_MS, signal);
          continue;
        }
      }
      await send(take(n));
      sent += n;
      options.onProgress?.(sent);
    }
    log.info("producer.finished", { sent, rates: rates.length });
    return { sent, rates: rates.length, seed };
  } finally {
    await producer.close();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
