/**
 * The stream processor (the ksqlDB layer, built in): consumes raw transactions and writes every
 * derived feed. Exactly-once: each input batch's outputs and the consumer offsets go out in one
 * Kafka transaction, under a transactional id fixed per consumer group, so a restarted instance
 * fences a zombie and aborts whatever it left open. Table state is rebuilt at start from the
 * tables' own changelogs (read_committed), so it always matches the committed offsets.
 */
import type { Config } from "../config/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { ConsumerHandle, KafkaClient } from "../kafka/client.ts";
import { Aggregates, WINDOW_GRACE_MS } from "./aggregates.ts";
import { batchTransformer, quarantine } from "./batch.ts";
import { hmacKey } from "./pseudonymize.ts";
import { applyRateRecord, type RateTable } from "./rates.ts";
import {
  processorFeeds,
  type ProcessorTopics,
  processorTopics,
  processorTopicSpecs,
} from "./topics.ts";
import { cachingHasher } from "./transform.ts";
import { base64Valued, rawDecoder } from "../registry/values.ts";
import { WAIT_BOUNDED, WAIT_FOREVER } from "../kafka/retry.ts";

export interface ProcessorOptions {
  config: Config;
  kafka: KafkaClient;
  log: Logger;
  /** Stop once caught up with the end the raw topic had at start. */
  once?: boolean;
  signal?: AbortSignal;
  /** Renames topics by role (tests, benchmarks); defaults come from the config. */
  topics?: Partial<ProcessorTopics>;
}

export interface ProcessorStats {
  recordsIn: number;
  /** Records written per output topic (quarantine included). */
  out: Record<string, number>;
  rejected: number;
  /** Events too late for their window (beyond the grace period): left out of the windows table. */
  lateEvents: number;
  /** Kafka transactions committed. */
  batches: number;
  /** Milliseconds spent consuming the raw topic (after the state was rebuilt). */
  processingMs: number;
  /** Of processingMs: turning raw records into outputs (validate, HMAC, aggregate, JSON). */
  transformMs: number;
  /** Of processingMs: Kafka transactions (produce calls, offsets, commit). */
  transactionMs: number;
}

export interface ProcessorHandle {
  /** Resolves with the final counters when stopped or caught up (--once); rejects on failure. */
  done: Promise<ProcessorStats>;
  stop(): Promise<void>;
  stats(): ProcessorStats;
}

/** The processor's consumer group and transactional id: stable, so restarts fence zombies. */
function processorGroupId(config: Pick<Config, "kafka">): string {
  return `${config.kafka.groupId}.processor`;
}

const decoder = new TextDecoder();
/**
 * Raw records per Kafka transaction. Each transaction costs a few round trips and a commit
 * marker per partition, so they are large; the client splits their records into produce calls
 * under the broker's size limits (src/kafka/limits.ts).
 */
const TRANSACTION_RECORDS = 5_000;
/** Raw bytes fetched per partition: about TRANSACTION_RECORDS fake transactions (~440 B each). */
const RAW_FETCH_BYTES = 2 * 1024 * 1024;
/**
 * Restore fetches per partition. Changelogs can be long (compaction is lazy): with 4 MiB fetches
 * the bench's restore of 1.4M changelog records peaked at 536 MB, with 1 MiB at 315–339 MB.
 */
const RESTORE_FETCH_BYTES = 1024 * 1024;

export function startProcessor(options: ProcessorOptions): ProcessorHandle {
  const { config, kafka } = options;
  if (!config.anonymizationKey) {
    throw new ConfigError(
      "ANONYMIZATION_KEY is not set: the processor refuses to write pseudonymized feeds " +
        "without it (set a long random secret; keep it stable, hashes depend on it)",
    );
  }
  const secret = config.anonymizationKey;
  const log = options.log.child({ component: "processor" });
  const feeds = processorFeeds(config);
  const topics = processorTopics(config, options.topics);
  const groupId = processorGroupId(config);
  const stats: ProcessorStats = {
    recordsIn: 0,
    out: {},
    rejected: 0,
    lateEvents: 0,
    batches: 0,
    processingMs: 0,
    transformMs: 0,
    transactionMs: 0,
  };
  let processingSince: number | undefined;
  const snapshot = (): ProcessorStats => {
    const copy = structuredClone(stats);
    if (processingSince !== undefined) copy.processingMs = performance.now() - processingSince;
    return copy;
  };
  const consumers: ConsumerHandle[] = [];
  let stopped = false;

  // RAW_FORMAT=avro: raw records decoded through the Schema Registry first (src/registry).
  const decodeRaw = rawDecoder(config, log, options.once ? WAIT_BOUNDED : WAIT_FOREVER);
  const decoding = new AbortController();
  const stop = async () => {
    stopped = true;
    decoding.abort();
    await Promise.all(consumers.map((c) => c.stop()));
  };
  options.signal?.addEventListener("abort", () => void stop(), { once: true });

  const run = async (): Promise<ProcessorStats> => {
    const hash = cachingHasher(hmacKey(secret));
    await kafka.ensureTopics(processorTopicSpecs(feeds, topics));

    const rates: RateTable = new Map();
    const aggregates = new Aggregates();
    await restore(kafka, topics, groupId, rates, aggregates, log);
    aggregates.evict();
    log.info("processor.restored", { rates: rates.size, ...aggregates.sizes() });
    if (rates.size === 0) {
      log.warn("processor.no_rates", {
        topic: topics.rates,
        hint: "run `produce` once; every transaction is quarantined until rates exist",
      });
    }

    // Created before consuming: initializing the transactional id aborts a crashed
    // predecessor's open transaction, so the offsets we start from are the committed ones.
    const tx = await kafka.transactionalProducer(groupId);
    try {
      if (!options.once && !stopped) {
        consumers.push(
          await kafka.consume({
            groupId: `${groupId}.rates.${crypto.randomUUID()}`,
            topics: [topics.rates],
            commit: false,
            onBatch: (batch) => {
              for (const record of batch.records) applyRateRecord(rates, record);
              return Promise.resolve();
            },
          }),
        );
      }
      if (stopped) return stats;

      processingSince = performance.now();
      const transform = batchTransformer({ config, feeds, topics, rates, aggregates, hash, log });
      const main = await kafka.consume({
        groupId,
        topics: [topics.raw],
        commit: false,
        readCommitted: true,
        stopWhenCaughtUp: options.once,
        // About one transaction per fetch: the consumer heartbeats between batches, so a batch
        // must stay well inside the session timeout even on a loaded machine.
        maxBytesPerPartition: RAW_FETCH_BYTES,
        onBatch: async (batch) => {
          // One transaction per chunk keeps every produce request under the broker's size
          // limit, whatever the fetch size; each chunk commits the offset just past it.
          for (let i = 0; i < batch.records.length || i === 0; i += TRANSACTION_RECORDS) {
            // Stopping between transactions is safe: the rest is read again from the offsets.
            if (stopped && i > 0) return;
            const chunk = batch.records.slice(i, i + TRANSACTION_RECORDS);
            const last = i + TRANSACTION_RECORDS >= batch.records.length;
            const next = last
              ? batch.nextOffset
              : (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
            const started = performance.now();
            const raw = decodeRaw
              ? await decodeRaw(chunk, decoding.signal)
              : { records: chunk, undecodable: [] };
            const { records, rejected } = transform(raw.records);
            for (const u of raw.undecodable) {
              const q = quarantine(topics.rejected, base64Valued(u.record), u.reason);
              records.push({ ...q, headers: { ...q.headers, value_encoding: "base64" } });
            }
            const transformed = performance.now();
            await tx.sendWithOffsets(records, {
              generation: batch.generation,
              offsets: [{ topic: batch.topic, partition: batch.partition, offset: next }],
            });
            stats.transformMs += transformed - started;
            stats.transactionMs += performance.now() - transformed;
            // Counted only once committed, so the counters never run ahead of the outputs.
            stats.batches++;
            stats.recordsIn += chunk.length;
            stats.rejected += rejected + raw.undecodable.length;
            for (const r of records) stats.out[r.topic] = (stats.out[r.topic] ?? 0) + 1;
            const late = aggregates.counters().lateEvents;
            if (late > stats.lateEvents) {
              log.warn("processor.late_events", {
                events: late - stats.lateEvents,
                total: late,
                graceHours: WINDOW_GRACE_MS / 3_600_000,
              });
              stats.lateEvents = late;
            }
          }
        },
      });
      consumers.push(main);
      if (stopped) await main.stop(); // stop() came while the consumer was joining
      log.info("processor.started", { groupId, input: topics.raw, once: options.once ?? false });
      await main.done;
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
      await tx.close().catch(() => {});
    }
    const final = snapshot();
    stats.processingMs = final.processingMs;
    processingSince = undefined;
    log.info("processor.stopped", {
      ...final,
      processingMs: Math.round(final.processingMs),
      transformMs: Math.round(final.transformMs),
      transactionMs: Math.round(final.transactionMs),
      evictedWindows: aggregates.counters().evictedWindows,
    });
    return final;
  };

  return { done: run(), stop, stats: snapshot };
}

/** Reads rates and the three tables' changelogs to their end (read_committed). */
async function restore(
  kafka: KafkaClient,
  topics: ProcessorTopics,
  groupId: string,
  rates: RateTable,
  aggregates: Aggregates,
  log: Logger,
): Promise<void> {
  let skipped = 0;
  const restorers: Record<string, (key: string, value: Record<string, unknown> | null) => void> = {
    [topics.userSpending]: (k, v) => aggregates.restoreUserSpending(k, v),
    [topics.windows]: (k, v) => aggregates.restoreWindow(k, v),
    [topics.users]: (k, v) => aggregates.restoreUser(k, v),
  };
  const handle = await kafka.consume({
    // A throwaway group that commits nothing: every start reads the changelogs whole.
    groupId: `${groupId}.restore.${crypto.randomUUID()}`,
    topics: [topics.rates, ...Object.keys(restorers)],
    commit: false,
    readCommitted: true,
    stopWhenCaughtUp: true,
    maxBytesPerPartition: RESTORE_FETCH_BYTES,
    onBatch: (batch) => {
      for (const record of batch.records) {
        if (batch.topic === topics.rates) {
          if (!applyRateRecord(rates, record)) skipped++;
          continue;
        }
        const key = record.key === null ? null : decoder.decode(record.key);
        if (key === null) {
          skipped++;
          continue;
        }
        try {
          const value = record.value === null ? null : JSON.parse(decoder.decode(record.value));
          restorers[batch.topic](key, value);
        } catch {
          skipped++;
        }
      }
      // Windows already past the grace period are dropped as they are read, not at the end.
      if (batch.topic === topics.windows) aggregates.evict();
      return Promise.resolve();
    },
  });
  await handle.done;
  if (skipped > 0) log.warn("processor.restore_skipped", { records: skipped });
}
