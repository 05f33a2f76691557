/**
 * The lake consumer: one Kafka consumer group reading the feed topics into the lake. A library
 * entry so that `consume` and `serve` run the same thing; `stats()` feeds /status and /metrics.
 */
import type { Config } from "../config/config.ts";
import type { Feed } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import { createProgress } from "../core/progress.ts";
import type { KafkaClient } from "../kafka/client.ts";
import { topicSpecForFeed } from "../kafka/topics.ts";
import { WAIT_BOUNDED, WAIT_FOREVER } from "../kafka/retry.ts";
import { FeedValueDecoder } from "../registry/values.ts";
import type { RegistryHealthSnapshot } from "../registry/client.ts";
import { RegistryUnavailableError } from "../registry/errors.ts";
import { type FeedCounters, LakeWriter } from "./writer.ts";

export type LakeStats = Record<string, FeedCounters>;

export interface LakeConsumerOptions {
  config: Pick<Config, "kafka" | "dataLakeDir"> & Partial<Pick<Config, "schemaRegistry">>;
  kafka: KafkaClient;
  log: Logger;
  /** The feeds to consume (already validated). */
  feeds: readonly Feed[];
  /** Exit once caught up with the ends the topics had at start. */
  once?: boolean;
  /** Stops the consumer cleanly when aborted. */
  signal?: AbortSignal;
  /** Show a progress line on a terminal (default: only with `once`). */
  progress?: boolean;
  /** Clock for table and static partition dates (tests). */
  now?: () => number;
}

export interface LakeConsumer {
  /** Resolves with the per-feed counters when caught up (once) or stopped. */
  done: Promise<LakeStats>;
  /** Finishes the batch in hand (written, checkpointed, committed) and stops. */
  stop(): Promise<void>;
  /** Running per-feed counters. */
  stats(): LakeStats;
  /** Whether the Schema Registry answered lately (feeds in a registry format only). */
  registryHealth?(): RegistryHealthSnapshot;
}

export async function startLakeConsumer(options: LakeConsumerOptions): Promise<LakeConsumer> {
  const { config, kafka, feeds, once = false } = options;
  const log = options.log.child({ component: "lake" });
  const writer = await LakeWriter.open({
    root: config.dataLakeDir,
    groupId: config.kafka.groupId,
    feeds,
    log,
    now: options.now,
  });
  await kafka.ensureTopics(feeds.map(topicSpecForFeed));
  // Feeds in a registry format (Avro, Protobuf, JSON Schema): values decoded before the lake
  // validates them; a stop lets go of a batch waiting for the registry.
  const byName = new Map(feeds.map((f) => [f.name, f]));
  const values = config.schemaRegistry && feeds.some((f) => f.format && f.format !== "json")
    ? new FeedValueDecoder(config.schemaRegistry, log, once ? WAIT_BOUNDED : WAIT_FOREVER)
    : undefined;
  const stopping = new AbortController();

  const progress = (options.progress ?? once)
    ? createProgress("lake", undefined, "records")
    : undefined;
  let total = 0;
  log.info("lake.consumer_started", {
    feeds: feeds.map((f) => f.name),
    group: config.kafka.groupId,
    once,
  });
  const handle = await kafka.consume({
    groupId: config.kafka.groupId,
    topics: feeds.map((f) => f.name),
    fromBeginning: true,
    stopWhenCaughtUp: once,
    // Large fetches mean large batches: fewer fsyncs and checkpoints per record.
    maxBytesPerPartition: 8 * 1024 * 1024,
    // The writer parses one partition's batch while another's is being written and synced.
    partitionsConcurrently: 3,
    onBatch: async (batch) => {
      const started = performance.now();
      const feed = byName.get(batch.topic);
      const decoded = values && feed
        ? await values.decodeBatch(feed, batch, stopping.signal)
        : undefined;
      const result = await writer.writeBatch(decoded?.batch ?? batch, decoded?.rejections);
      total += batch.records.length;
      progress?.update(total, `${result.feed} +${result.written}`);
      log.debug("lake.batch_written", {
        feed: result.feed,
        partition: result.partition,
        written: result.written,
        rejected: result.rejected,
        ignored: result.ignored,
        skipped: result.skipped,
        nextOffset: batch.nextOffset,
        ms: Math.round(performance.now() - started),
      });
    },
  });

  const onAbort = () => (stopping.abort(), void handle.stop());
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  // Closing the writer writes the table snapshots still pending (after a failure: none).
  const done = handle.done.then(
    async () => (await writer.close(), writer.stats()),
    async (error) => {
      await writer.close().catch(() => {});
      // Stopped while a batch waited for the registry: that batch was neither written nor
      // committed (it is read again on the next start), so this is a normal stop.
      if (stopping.signal.aborted && error instanceof RegistryUnavailableError) {
        return writer.stats();
      }
      throw error;
    },
  ).finally(() => {
    options.signal?.removeEventListener("abort", onAbort);
    values?.close();
    progress?.finish();
  });
  done.then(
    (stats) => log.info("lake.consumer_stopped", { stats }),
    (error) => log.error("lake.consumer_failed", { error }),
  );
  return {
    done,
    stop: () => (stopping.abort(), handle.stop()),
    stats: () => writer.stats(),
    ...(values ? { registryHealth: () => values.health() } : {}),
  };
}
