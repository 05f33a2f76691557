/**
 * The stream processor (the ksqlDB layer, built in): consumes raw transactions and writes every
 * derived feed. Exactly-once: each input batch's outputs and the consumer offsets go out in one
 * Kafka transaction, under a transactional id fixed per consumer group, so a restarted instance
 * fences a zombie and aborts whatever it left open. Table state is rebuilt at start from the
 * tables' own changelogs (read_committed), so it always matches the committed offsets.
 */
import type { Config } from "../config/config.ts";
import { type Feed, recordKey } from "../config/feeds.ts";
import { joinedKey } from "../contract/record.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { ConsumerHandle, KafkaClient, KafkaRecord, OutgoingRecord } from "../kafka/client.ts";
import { Aggregates } from "./aggregates.ts";
import { importHmacKey } from "./pseudonymize.ts";
import { applyRateRecord, type RateTable } from "./rates.ts";
import {
  processorFeeds,
  type ProcessorTopics,
  processorTopics,
  processorTopicSpecs,
} from "./topics.ts";
import { cachingHasher, type Hasher, isBlacklisted, pseudonymize, toUsd } from "./transform.ts";
import { validateRaw } from "./validate.ts";

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
  /** Kafka transactions committed. */
  batches: number;
  /** Milliseconds spent consuming the raw topic (after the state was rebuilt). */
  processingMs: number;
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
/** Raw records per Kafka transaction: their outputs stay well under 1 MB per partition. */
const TRANSACTION_RECORDS = 1000;

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
    batches: 0,
    processingMs: 0,
  };
  let processingSince: number | undefined;
  const snapshot = (): ProcessorStats => {
    const copy = structuredClone(stats);
    if (processingSince !== undefined) copy.processingMs = performance.now() - processingSince;
    return copy;
  };
  const consumers: ConsumerHandle[] = [];
  let stopped = false;

  const stop = async () => {
    stopped = true;
    await Promise.all(consumers.map((c) => c.stop()));
  };
  options.signal?.addEventListener("abort", () => void stop(), { once: true });

  const run = async (): Promise<ProcessorStats> => {
    const hash = cachingHasher(await importHmacKey(secret));
    await kafka.ensureTopics(processorTopicSpecs(feeds, topics));

    const rates: RateTable = new Map();
    const aggregates = new Aggregates();
    await restore(kafka, topics, groupId, rates, aggregates, log);
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
            const { records, rejected } = await transform(chunk);
            await tx.sendWithOffsets(records, {
              groupId,
              offsets: [{ topic: batch.topic, partition: batch.partition, offset: next }],
            });
            // Counted only once committed, so the counters never run ahead of the outputs.
            stats.batches++;
            stats.recordsIn += chunk.length;
            stats.rejected += rejected;
            for (const r of records) stats.out[r.topic] = (stats.out[r.topic] ?? 0) + 1;
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
    log.info("processor.stopped", { ...final, processingMs: Math.round(final.processingMs) });
    return final;
  };

  return { done: run(), stop, stats: snapshot };
}

interface TransformContext {
  config: Config;
  feeds: ReturnType<typeof processorFeeds>;
  topics: ProcessorTopics;
  rates: RateTable;
  aggregates: Aggregates;
  hash: Hasher;
  log: Logger;
}

/** Turns one raw batch into every output record (streams, quarantine, table updates). */
function batchTransformer(ctx: TransformContext) {
  const { topics, feeds, aggregates } = ctx;
  const json = (value: unknown) => JSON.stringify(value);
  const table = (feed: Feed, topic: string, value: Record<string, unknown>): OutgoingRecord => ({
    topic,
    key: recordKey(feed, value),
    value: json(value),
  });

  return async (batch: KafkaRecord[]) => {
    const out: OutgoingRecord[] = [];
    let rejected = 0;
    for (const record of batch) {
      const checked = validateRaw(record.value, ctx.rates, ctx.config.timeWindow);
      if (!checked.ok) {
        rejected++;
        out.push(quarantine(topics.rejected, record, checked.reason));
        ctx.log.warn("processor.record_rejected", {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          reason: checked.reason,
        });
        continue;
      }
      const secure = await pseudonymize(checked.tx, ctx.hash);
      const usd = toUsd(secure, checked.rate);
      // Derived streams are keyed by the hashed user: per-user order survives, no raw id leaks.
      const key = secure.USER_ID_HASHED;
      const value = json(secure);
      out.push({ topic: topics.secure, key, value });
      out.push({ topic: topics.usd, key, value: json(usd) });
      out.push({ topic: topics.byStatus[secure.STATUS], key, value });
      if (isBlacklisted(checked.tx, ctx.config.blacklist)) {
        out.push({ topic: topics.blacklisted, key, value });
      }
      aggregates.apply(usd, checked.eventTime);
    }
    const updates = aggregates.drain();
    for (const v of updates.userSpending) {
      out.push(table(feeds.userSpending, topics.userSpending, { ...v }));
    }
    for (const v of updates.windows) out.push(table(feeds.windows, topics.windows, { ...v }));
    for (const v of updates.users) out.push(table(feeds.users, topics.users, { ...v }));
    return { records: out, rejected };
  };
}

/** The raw record as it came (personal data included: this topic never reaches the lake). */
function quarantine(topic: string, record: KafkaRecord, reason: string): OutgoingRecord {
  return {
    topic,
    key: record.key === null ? null : decoder.decode(record.key),
    value: record.value === null ? null : decoder.decode(record.value),
    headers: {
      reason,
      source_topic: record.topic,
      source_partition: String(record.partition),
      source_offset: record.offset,
    },
  };
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
    onBatch: (batch) => {
      for (const record of batch.records) {
        if (batch.topic === topics.rates) {
          if (!applyRateRecord(rates, record)) skipped++;
          continue;
        }
        // Changelog keys are recordKeys (JSON arrays when composite); the aggregates join by "|".
        const key = record.key === null ? null : joinedKey(decoder.decode(record.key));
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
      return Promise.resolve();
    },
  });
  await handle.done;
  if (skipped > 0) log.warn("processor.restore_skipped", { records: skipped });
}
