/**
 * The stream processor (the ksqlDB layer, built in): consumes raw transactions and writes every
 * derived feed, exactly once, with any number of instances sharing the raw topic's partitions.
 *
 * Two stages (stage.ts), each a consumer group member with its own transactional id
 * (`<group>.processor.<stage>.<instance id>`; the instance id is kept in PROCESSOR_STATE_DIR, so a
 * restart reuses it and aborts what its predecessor left open):
 *
 * 1. raw partition p → the streams, quarantine, USER_SPENDING_BY_TYPE and USERS (partition p:
 *    co-partitioned, user_tables.ts), and window deltas to the repartition topic (windows.ts);
 * 2. repartition partition q → SPEND_LAST_FIVE_MIN_BY_TYPE (partition q).
 *
 * Topic layout: layout.ts. State restore: restore.ts. Currency rates are read whole at start and
 * followed afterwards.
 */
import type { Config } from "../config/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type {
  ConsumerHandle,
  KafkaClient,
  KafkaRecord,
  OutgoingRecord,
  TransactionalProducer,
} from "../kafka/client.ts";
import { outagePolicy } from "../kafka/retry.ts";
import { base64Valued, changelogDecoder, rawDecoder } from "../registry/values.ts";
import { avroOutputs } from "./outputs.ts";
import { batchTransformer, quarantine } from "./batch.ts";
import { prepareTopics } from "./layout.ts";
import { hmacKey } from "./pseudonymize.ts";
import { applyRateRecord, type RateTable } from "./rates.ts";
import { type ChunkTimes, type Stage, startStage } from "./stage.ts";
import { openStateDir } from "./state_dir.ts";
import { userStateKind, windowStateKind } from "./state_kinds.ts";
import { processorFeeds, type ProcessorTopics, processorTopics } from "./topics.ts";
import { cachingHasher } from "./transform.ts";
import { windowBatchTransformer } from "./window_batch.ts";
import { WINDOW_GRACE_MS, type WindowTables } from "./windows.ts";

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
  /** Records written per output topic (quarantine included, the internal topic left out). */
  out: Record<string, number>;
  rejected: number;
  /** Events too late for their window (beyond the grace period): left out of the windows table. */
  lateEvents: number;
  /** Kafka transactions committed (both stages). */
  batches: number;
  /** Window deltas written to the internal repartition topic. */
  deltas: number;
  /** Milliseconds spent consuming the raw topic (after the state was rebuilt). */
  processingMs: number;
  /** Of processingMs: turning records into outputs (validate, HMAC, aggregate, JSON). */
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

/** The processor's consumer group (stage one; stage two adds `.windows`). */
export function processorGroupId(config: Pick<Config, "kafka">): string {
  return `${config.kafka.groupId}.processor`;
}

/**
 * Raw bytes fetched per partition: one transaction of ~2,300 fake transactions (~440 B each).
 * Each partition holds a batch in hand and one fetched ahead; at 2 MiB the processor's peak RSS
 * on bench/process.sh was ~415 MB, at 1 MiB ~365 MB for the same CPU time (512 KiB: no less
 * memory, more CPU in the extra transactions).
 */
const RAW_FETCH_BYTES = 1024 * 1024;
/**
 * Window deltas fetched per repartition partition. Deltas are small records, so a byte budget
 * holds many of them. With `--once`, stage two reads the whole run's deltas after stage one, and
 * that was the processor's peak (--trace-gc): on bench/process.sh, 1 MiB took the peak RSS from
 * ~210 MB during stage one to ~275 MB; 512 KiB gave ~257 MB, 256 KiB ~225 MB, 128 KiB no less.
 * Smaller batches coalesce window updates a little less (+0.6% records out at 256 KiB).
 */
const DELTA_FETCH_BYTES = 256 * 1024;

export function startProcessor(options: ProcessorOptions): ProcessorHandle {
  const { config, kafka } = options;
  if (!config.anonymizationKey) {
    throw new ConfigError(
      "ANONYMIZATION_KEY is not set: the processor refuses to write pseudonymized feeds " +
        "without it (set a long random secret; keep it stable, hashes depend on it)",
    );
  }
  const secret = config.anonymizationKey;
  const once = options.once ?? false;
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
    deltas: 0,
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
  const stages: Stage[] = [];
  const consumers: ConsumerHandle[] = [];
  let stopped = false;
  // Every part's failure ends the run (the supervisor restarts it). Watched from the moment the
  // part exists: a rejection nobody awaits yet would be unhandled and end the whole process.
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const watched = <P extends { done: Promise<unknown> }>(part: P): P => {
    part.done.catch(fail);
    return part;
  };
  // RAW_FORMAT=avro: raw records decoded through the Schema Registry first (src/registry).
  const policy = outagePolicy(options.once === true, config);
  const decodeRaw = rawDecoder(config, log, policy);
  // Changelogs written as Avro (OUTPUT_FORMAT=avro, now or before) are decoded at restore.
  const decodeChangelog = changelogDecoder(config, log, policy);
  const decoding = new AbortController();
  const stop = async () => {
    stopped = true;
    decoding.abort();
    await Promise.all([...stages, ...consumers].map((c) => c.stop()));
  };
  options.signal?.addEventListener("abort", () => void stop(), { once: true });

  const count = (written: Map<string, number>, internal: string, ms: ChunkTimes) => {
    stats.batches++;
    stats.transformMs += ms.transformMs;
    stats.transactionMs += ms.transactionMs;
    for (const [topic, n] of written) {
      if (topic === internal) stats.deltas += n;
      else stats.out[topic] = (stats.out[topic] ?? 0) + n;
    }
  };

  const run = async (): Promise<ProcessorStats> => {
    const layout = await prepareTopics(kafka, feeds, topics, groupId);
    const internal = layout.repartition.topic;
    const stateDir = await openStateDir(config.processor.stateDir, groupId, log);
    const id = stateDir.instanceId;
    const closers: (() => Promise<void>)[] = [];
    try {
      // Created before consuming: initializing a transactional id aborts what a crashed
      // predecessor with the same id left open.
      const usersTx = await kafka.transactionalProducer(`${groupId}.users.${id}`);
      closers.push(() => usersTx.close());
      const windowsTx = await kafka.transactionalProducer(`${groupId}.windows.${id}`);
      closers.push(() => windowsTx.close());
      // Both stages may restore at once: their offsets-only commits take turns on one producer.
      const seeder = oneAtATime(await kafka.transactionalProducer(`${groupId}.restore.${id}`));
      closers.push(() => seeder.close());

      const rates: RateTable = new Map();
      await readRates(kafka, topics.rates, groupId, rates, log);
      if (!once && !stopped) {
        consumers.push(watched(
          await kafka.consume({
            groupId: `${groupId}.rates.${crypto.randomUUID()}`,
            topics: [topics.rates],
            commit: false,
            onBatch: (batch) => {
              for (const record of batch.records) applyRateRecord(rates, record);
              return Promise.resolve();
            },
          }),
        ));
      }
      if (stopped) return stats;

      // OUTPUT_FORMAT=avro: every output topic's schema registered once, before any record.
      const outputs = await avroOutputs({
        config,
        feeds,
        topics,
        log,
        policy,
        signal: decoding.signal,
      }).catch((error) => {
        // A stop while the registry is waited out is a clean stop.
        if (stopped) return undefined;
        throw error;
      });
      if (stopped) return stats;
      const common = {
        kafka,
        log,
        decodeChangelog: decodeChangelog &&
          ((topic: string, bytes: Uint8Array) => decodeChangelog(topic, bytes, decoding.signal)),
        seeder,
        stateDir,
        snapshotIntervalMs: config.processor.snapshotIntervalMs,
        once,
      };
      const hash = cachingHasher(hmacKey(secret));
      const transform = batchTransformer({
        config,
        feeds,
        topics,
        rates,
        hash,
        log,
        repartition: layout.repartition,
        streamPartitions: layout.streamPartitions,
      });
      const toWindows = windowBatchTransformer({ feeds, topics, log });
      const startWindows = () =>
        startStage<WindowTables>({
          ...common,
          groupId: `${groupId}.windows`,
          input: internal,
          kind: windowStateKind(topics),
          producer: windowsTx,
          fetchBytes: DELTA_FETCH_BYTES,
          // Deltas are few and fold into windows: the whole chunk's outputs come at its end.
          begin: (tables, partition) => {
            const chunk: KafkaRecord[] = [];
            return {
              add: (records) => {
                for (const r of records) chunk.push(r);
                return [];
              },
              finish: () => {
                const before = tables.counters().lateEvents;
                const out = toWindows(chunk, tables, partition);
                outputs?.encode(out);
                const late = tables.counters().lateEvents - before;
                if (late > 0) {
                  stats.lateEvents += late;
                  log.warn("processor.late_events", {
                    events: late,
                    total: stats.lateEvents,
                    graceHours: WINDOW_GRACE_MS / 3_600_000,
                  });
                }
                return out;
              },
            };
          },
          committed: (_chunk, written, ms) => count(written, internal, ms),
          restored: (tables) => tables.evict(),
        });

      processingSince = performance.now();
      // Continuous: both stages run side by side. --once: stage two reads the deltas of the
      // whole run once stage one is done, so the windows are complete when the command ends.
      if (!once) stages.push(watched(await startWindows()));
      const users = await startStage({
        ...common,
        groupId,
        input: topics.raw,
        kind: userStateKind(topics),
        producer: usersTx,
        fetchBytes: RAW_FETCH_BYTES,
        decode: decodeRaw && (async (chunk) => {
          const raw = await decodeRaw(chunk, decoding.signal);
          stats.rejected += raw.undecodable.length;
          // Binary Avro would not survive the quarantine topic's text values: base64, said so.
          const rejected = raw.undecodable.map((u) => {
            const q = quarantine(topics.rejected, base64Valued(u.record), u.reason);
            return { ...q, headers: { ...q.headers, value_encoding: "base64" } };
          });
          return { records: raw.records, rejected };
        }),
        begin: (tables, partition) => {
          const run = transform(tables, partition);
          const encoded = (out: OutgoingRecord[]) => {
            outputs?.encode(out);
            return out;
          };
          return {
            add: (records) => encoded(run.add(records)),
            finish: () => {
              stats.rejected += run.rejected;
              return encoded(run.finish());
            },
          };
        },
        committed: (chunk, written, ms) => {
          // Counted only once committed, so the counters never run ahead of the outputs.
          stats.recordsIn += chunk.length;
          count(written, internal, ms);
        },
      });
      stages.push(watched(users));
      if (stopped) await users.stop(); // stop() came while the consumer was joining
      log.info("processor.started", { groupId, instanceId: id, input: topics.raw, once });
      await Promise.race([failed, ...stages.map((s) => s.done)]);
      if (once && !stopped) {
        const windows = watched(await startWindows());
        stages.push(windows);
        await Promise.race([failed, windows.done]);
      }
    } finally {
      await Promise.all([...stages, ...consumers].map((c) => c.stop()));
      await Promise.allSettled(stages.map((s) => s.done));
      for (const close of closers) await close().catch(() => {});
      stateDir.close();
    }
    const final = snapshot();
    stats.processingMs = final.processingMs;
    processingSince = undefined;
    log.info("processor.stopped", {
      ...final,
      processingMs: Math.round(final.processingMs),
      transformMs: Math.round(final.transformMs),
      transactionMs: Math.round(final.transactionMs),
    });
    return final;
  };

  return { done: run(), stop, stats: snapshot };
}

/** A transactional producer whose transactions never overlap (one is open at a time). */
function oneAtATime(tx: TransactionalProducer): TransactionalProducer {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    sendWithOffsets: (records, commit) => {
      const run = tail.then(() => tx.sendWithOffsets(records, commit));
      tail = run.catch(() => {});
      return run;
    },
    close: () => tx.close(),
  };
}

/** Reads the currency rates topic to its end (read_committed). */
async function readRates(
  kafka: KafkaClient,
  topic: string,
  groupId: string,
  rates: RateTable,
  log: Logger,
): Promise<void> {
  let skipped = 0;
  const handle = await kafka.consume({
    // A throwaway group that commits nothing: rates are few, read whole at each start.
    groupId: `${groupId}.rates-restore.${crypto.randomUUID()}`,
    topics: [topic],
    commit: false,
    readCommitted: true,
    stopWhenCaughtUp: true,
    onBatch: (batch) => {
      for (const record of batch.records) if (!applyRateRecord(rates, record)) skipped++;
      return Promise.resolve();
    },
  });
  await handle.done;
  if (skipped > 0) log.warn("processor.restore_skipped", { topic, records: skipped });
  log.debug("processor.rates", { rates: rates.size }); // none is a warning, below
  if (rates.size === 0) {
    log.warn("processor.no_rates", {
      topic,
      hint: "run `produce` once; every transaction is quarantined until rates exist",
    });
  }
}
