/**
 * The lake consumer: the feed topics into the lake, one Kafka consumer per feed so that no feed
 * can stop the rest. Each reads every partition of its topic as a standalone member of the lake's
 * group (one writer per lake: no rebalances between feeds) and runs under its own supervisor: a
 * feed that cannot be read (its topic deleted, access to it denied, data that cannot be decoded)
 * is reported with its cause (`lake.feed_failed`, `feedErrors()`) and retried with backoff while
 * the others go on. A library entry so that `consume` and `serve` run the same thing; `stats()`
 * feeds /status and /metrics.
 */
import type { Config } from "../config/config.ts";
import type { Feed } from "../config/feeds.ts";
import { ConfigError, StorageError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { createProgress } from "../core/progress.ts";
import type { KafkaClient, RecordBatch } from "../kafka/client.ts";
import {
  isTopicKafkaError,
  KafkaHealth,
  type KafkaHealthSnapshot,
  outagePolicy,
} from "../kafka/retry.ts";
import { supervise, type Supervised } from "../kafka/supervise.ts";
import { topicSpecForFeed } from "../kafka/topics.ts";
import { FeedValueDecoder } from "../registry/values.ts";
import type { RegistryHealthSnapshot } from "../registry/client.ts";
import { RegistryUnavailableError } from "../registry/errors.ts";
import { type FeedCounters, LakeWriter } from "./writer.ts";

export type LakeStats = Record<string, FeedCounters>;

export interface LakeConsumerOptions {
  config:
    & Pick<Config, "kafka" | "dataLakeDir">
    & Partial<Pick<Config, "schemaRegistry" | "onceOutageMs">>;
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
  /** Told when Kafka is lost (a feed's own failures stay with the feed, see feedErrors). */
  health?: KafkaHealth;
}

export interface LakeConsumer {
  /** Resolves with the per-feed counters when caught up (once) or stopped. */
  done: Promise<LakeStats>;
  /** Finishes the batches in hand (written, checkpointed, committed) and stops. */
  stop(): Promise<void>;
  /** Running per-feed counters. */
  stats(): LakeStats;
  /** Feeds that cannot be read right now, with the cause; they are being retried. */
  feedErrors(): Record<string, string>;
  /** Whether the Schema Registry answered lately (feeds in a registry format only). */
  registryHealth?(): RegistryHealthSnapshot;
}

/**
 * A feed's view of Kafka's health: its own failures are its own; a failure of the cluster
 * (unreachable, credentials refused) is passed on to the process-wide health.
 */
class FeedHealth extends KafkaHealth {
  #global?: KafkaHealth;
  constructor(global?: KafkaHealth) {
    super();
    this.#global = global;
  }
  override up(): void {
    super.up();
    this.#global?.up();
  }
  override down(error: unknown): void {
    super.down(error);
    if (!isTopicKafkaError(error)) this.#global?.down(error);
  }
  /** Kafka answering any consumer of this process counts (fetches report to the global one). */
  override lastUpAt(): number {
    return Math.max(super.lastUpAt(), this.#global?.lastUpAt() ?? 0);
  }
  override snapshot(): KafkaHealthSnapshot {
    return super.snapshot();
  }
}

/** Errors that stop every feed: the lake's disk, or a setting (credentials included). */
const stopsAll = (error: unknown) => error instanceof StorageError || error instanceof ConfigError;

export async function startLakeConsumer(options: LakeConsumerOptions): Promise<LakeConsumer> {
  const { config, kafka, feeds, once = false } = options;
  const log = options.log.child({ component: "lake" });
  const writer = await LakeWriter.open({
    root: config.dataLakeDir,
    groupId: config.kafka.groupId,
    feeds,
    log,
    now: options.now,
    topicIds: (topics) => kafka.topicIds(topics),
  });
  try {
    await kafka.ensureTopics(feeds.map(topicSpecForFeed));
    // A topic re-created since the checkpoint is read from its start (writer.noteTopicIds).
    await writer.noteTopicIds(await kafka.topicIds(feeds.map((f) => f.name)));
  } catch (error) {
    await writer.close().catch(() => {}); // gives the lake back before a restart claims it
    throw error;
  }
  // Feeds in a registry format (Avro, Protobuf, JSON Schema): values decoded before the lake
  // validates them; a stop lets go of a batch waiting for the registry.
  const byName = new Map(feeds.map((f) => [f.name, f]));
  const values = config.schemaRegistry && feeds.some((f) => f.format && f.format !== "json")
    ? new FeedValueDecoder(config.schemaRegistry, log, outagePolicy(once, config))
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
  const onBatch = async (batch: RecordBatch) => {
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
  };

  const signal = options.signal
    ? AbortSignal.any([options.signal, stopping.signal])
    : stopping.signal;
  const healths = new Map<string, FeedHealth>();
  const parts = new Map<string, Supervised<{ done: Promise<void>; stop(): Promise<void> }>>();
  for (const feed of feeds) {
    const health = new FeedHealth(options.health);
    healths.set(feed.name, health);
    parts.set(
      feed.name,
      supervise(`lake ${feed.name}`, async () => {
        // A feed restarted after its topic was deleted may find it re-created (noteTopicIds).
        await writer.noteTopicIds(await kafka.topicIds([feed.name]));
        const handle = await kafka.consume({
          groupId: config.kafka.groupId,
          topics: [feed.name],
          assignAll: true,
          fromBeginning: true,
          stopWhenCaughtUp: once,
          // Large fetches mean large batches: fewer fsyncs and checkpoints per record.
          maxBytesPerPartition: 8 * 1024 * 1024,
          // The writer parses one partition's batch while another's is being written and synced.
          partitionsConcurrently: 3,
          onBatch,
        });
        return { done: handle.done, stop: handle.stop };
      }, {
        policy: outagePolicy(once, config),
        log: options.log.child({ component: "lake", feed: feed.name }),
        brokers: config.kafka.brokers,
        health,
        signal,
        failureEvent: "lake.feed_failed",
        // --once retries Kafka outages (bounded) but not a feed's own failure: other feeds'
        // answers keep Kafka "up", so the bounded wait would never run out; it ends with the cause.
      }, { alsoRetry: (error) => !once && !stopsAll(error) }),
    );
  }

  const stopAll = () => Promise.all([...parts.values()].map((p) => p.stop())).then(() => {});
  const onAbort = () => void stopAll();
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });

  const done = (async () => {
    const failures: { feed: string; error: unknown }[] = [];
    await Promise.all([...parts].map(([feed, part]) =>
      part.done.catch((error) => {
        // Stopped while a batch waited for the registry: that batch was neither written nor
        // committed (it is read again on the next start), so this is a normal stop.
        if (stopping.signal.aborted && error instanceof RegistryUnavailableError) return;
        failures.push({ feed, error });
        log.error("lake.feed_stopped", { feed, error });
        // The lake's disk or a setting: every feed has the same problem.
        if (stopsAll(error)) stopping.abort();
      })
    ));
    signal.removeEventListener("abort", onAbort);
    values?.close();
    progress?.finish();
    if (failures.length > 0) {
      await writer.close().catch(() => {});
      throw (failures.find((f) => stopsAll(f.error)) ?? failures[0]).error;
    }
    // Closing the writer writes the table snapshots still pending.
    await writer.close();
    return writer.stats();
  })();
  done.then(
    (stats) => log.info("lake.consumer_stopped", { stats }),
    (error) => log.error("lake.consumer_failed", { error }),
  );
  return {
    done,
    stop: async () => {
      stopping.abort();
      await stopAll();
      await done.catch(() => {});
    },
    stats: () => writer.stats(),
    feedErrors: () => {
      const out: Record<string, string> = {};
      for (const [feed, health] of healths) {
        const snapshot = health.snapshot();
        if (!snapshot.up && snapshot.error) out[feed] = snapshot.error;
      }
      return out;
    },
    ...(values ? { registryHealth: () => values.health() } : {}),
  };
}
