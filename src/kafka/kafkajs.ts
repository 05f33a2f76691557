/** KafkaClient on kafkajs (pure JavaScript, so it runs inside a compiled Deno binary). */
import {
  type Admin,
  type EachBatchPayload,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  type Producer as KjsProducer,
} from "kafkajs";
import { UnavailableError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type {
  ConsumeOptions,
  ConsumerHandle,
  KafkaClient,
  KafkaRecord,
  OutgoingRecord,
  PartitionOffset,
  Producer,
  TopicSpec,
  TransactionalProducer,
} from "./client.ts";
import { cachedPartitioner, speedUpKafkaJs } from "./kafkajs_speedups.ts";
import { Buffer } from "node:buffer";
import { headerBytes, RECORD_OVERHEAD, splitForProduce } from "./limits.ts";
import { fixKafkaJsRequestQueue } from "./request_queue_fix.ts";
import { isTransientKafkaError, type KafkaHealth } from "./retry.ts";

interface KafkaJsSettings {
  brokers: string[];
  clientId: string;
}

const decoder = new TextDecoder();
/** The consumers' heartbeat interval (well under the 30 s session). */
const HEARTBEAT_MS = 2000;

export class KafkaJsClient implements KafkaClient {
  #kafka: Kafka;
  #log: Logger;
  #admin?: Promise<Admin>;
  #closers: (() => Promise<void>)[] = [];
  #health?: KafkaHealth;

  constructor(settings: KafkaJsSettings, log: Logger, health?: KafkaHealth) {
    this.#log = log;
    this.#health = health;
    fixKafkaJsRequestQueue();
    speedUpKafkaJs();
    this.#kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      connectionTimeout: 3000,
      requestTimeout: 30000,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
      logLevel: logLevel.WARN,
      // kafkajs reports retried, harmless conditions (a coordinator still loading) as errors;
      // real failures reach us as rejected calls, so its own lines go to debug.
      logCreator: () => (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        log.debug("kafka.client_log", { namespace: entry.namespace, message, error: rest.error });
      },
    });
  }

  #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin();
      this.#admin = admin.connect().then(() => admin).catch((error) => {
        this.#admin = undefined;
        throw unavailable(error);
      });
      this.#closers.push(async () => {
        if (this.#admin) await (await this.#admin.catch(() => undefined))?.disconnect();
      });
    }
    return this.#admin;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions ?? 1,
          configEntries: spec.compact ? [{ name: "cleanup.policy", value: "compact" }] : [],
        })),
      });
    } catch (error) {
      // Another process may have created them between our list and create.
      if (!/already exists/i.test(String((error as Error).message))) throw error;
    }
    this.#log.info("kafka.topics_created", { topics: missing.map((s) => s.topic) });
  }

  async listTopics(): Promise<string[]> {
    return await (await this.#adminClient()).listTopics();
  }

  /** kafkajs' metadata request predates topic ids: none is known (identity is not checked). */
  topicIds(_topics: string[]): Promise<Map<string, string>> {
    return Promise.resolve(new Map());
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const offsets = await this.#topicOffsets(topic);
    return offsets.map((o) => ({ topic, partition: o.partition, offset: o.high }));
  }

  /** First (low) and next (high) offset of each partition of `topic`, in one admin call. */
  async #topicOffsets(
    topic: string,
  ): Promise<{ partition: number; low: string; high: string }[]> {
    const admin = await this.#adminClient();
    const offsets = await retryTransient(() => admin.fetchTopicOffsets(topic));
    return offsets.map(({ partition, low, high }) => ({ partition, low, high }));
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    const admin = await this.#adminClient();
    const result = await retryTransient(() => admin.fetchOffsets({ groupId, topics }));
    return result.flatMap(({ topic, partitions }) =>
      partitions
        .filter((p) => p.offset !== "-1")
        .map((p) => ({ topic, partition: p.partition, offset: p.offset }))
    );
  }

  async consume(options: ConsumeOptions): Promise<ConsumerHandle> {
    const consumer = this.#kafka.consumer({
      groupId: options.groupId,
      readUncommitted: options.readCommitted === false,
      // Generous: a stalled event loop (a long synchronous step) must not get us evicted.
      sessionTimeout: 30000,
      heartbeatInterval: HEARTBEAT_MS,
      rebalanceTimeout: 20000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: 500,
      // Network and coordinator errors restart the fetch loop; errors from our own handler are
      // caught in eachBatch and end the consumer (they are storage failures, not blips).
      retry: { retries: 8, restartOnFailure: () => Promise.resolve(true) },
    });
    const commit = options.commit ?? true;
    const tracker = options.stopWhenCaughtUp
      ? await this.#catchUpTracker(options.groupId, options.topics, options.fromBeginning ?? true)
      : undefined;

    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let stopping: Promise<void> | undefined;
    let failed = false;

    /** Batches being handled: a stop lets them finish (written, committed) before leaving. */
    const inFlight = new Set<Promise<void>>();
    const stop = (): Promise<void> => {
      stopping ??= Promise.allSettled([...inFlight])
        .then(() => consumer.disconnect())
        .then(() => settle.resolve(), (e) => settle.reject(e));
      return stopping.then(() => done).catch(() => {});
    };
    const fail = (error: unknown) => {
      failed = true;
      settle.reject(error);
      setTimeout(() => void consumer.disconnect().catch(() => {}), 0);
    };

    consumer.on(consumer.events.CRASH, (event) => {
      if (isTransientKafkaError(event.payload.error)) this.#health?.down(event.payload.error);
      if (!event.payload.restart) fail(event.payload.error);
    });
    // Every answered fetch shows Kafka up (kafkajs restarts its fetch loop after outages).
    if (this.#health) consumer.on(consumer.events.FETCH, () => this.#health?.up());
    if (tracker) {
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { topic, partition, lastOffset } = event.payload;
        if (tracker.advance(topic, partition, BigInt(lastOffset) + 1n)) void stop();
      });
    }

    try {
      await consumer.connect();
      await consumer.subscribe({
        topics: options.topics,
        fromBeginning: options.fromBeginning ?? true,
      });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw unavailable(error);
    }

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      eachBatch: (payload: EachBatchPayload) => {
        const work = (async () => {
          if (failed || stopping) return;
          const { batch } = payload;
          const records: KafkaRecord[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
            headers: decodeHeaders(m.headers),
          }));
          const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
          // A long batch (the processor commits it in many transactions) must not outlast the
          // session: without heartbeats the coordinator drops us ("not aware of this member").
          const beat = setInterval(() => void payload.heartbeat().catch(() => {}), HEARTBEAT_MS);
          try {
            await options.onBatch({
              topic: batch.topic,
              partition: batch.partition,
              records,
              nextOffset,
              highWatermark: batch.highWatermark,
              // kafkajs cannot send the generation with a transactional commit (no KIP-447).
              generation: { groupId: options.groupId, memberId: "", generationId: -1 },
            });
            payload.resolveOffset(batch.lastOffset());
            if (commit) {
              await consumer.commitOffsets([{
                topic: batch.topic,
                partition: batch.partition,
                offset: nextOffset,
              }]);
            }
          } catch (error) {
            fail(error);
            return;
          } finally {
            clearInterval(beat);
          }
          // Outside the catch: a heartbeat refused because a slow batch outlived the session (the
          // group rebalanced) goes to kafkajs, which rejoins and resumes from committed offsets.
          await payload.heartbeat();
        })();
        inFlight.add(work);
        return work.finally(() => inFlight.delete(work));
      },
    });

    if (tracker?.caughtUp()) void stop();
    this.#closers.push(stop);
    return { done, stop };
  }

  /** Positions per partition, compared with the ends the topics had when consuming started. */
  async #catchUpTracker(groupId: string, topics: string[], fromBeginning: boolean) {
    const ends = new Map<string, bigint>();
    const positions = new Map<string, bigint>();
    const committed = new Map(
      (await this.committedOffsets(groupId, topics)).map((
        o,
      ) => [`${o.topic}:${o.partition}`, BigInt(o.offset)]),
    );
    for (const topic of topics) {
      for (const { partition, low, high } of await this.#topicOffsets(topic)) {
        const id = `${topic}:${partition}`;
        ends.set(id, BigInt(high));
        positions.set(id, committed.get(id) ?? BigInt(fromBeginning ? low : high));
      }
    }
    const caughtUp = () => [...ends].every(([id, end]) => (positions.get(id) ?? 0n) >= end);
    return {
      caughtUp,
      advance(topic: string, partition: number, next: bigint): boolean {
        const id = `${topic}:${partition}`;
        if (next > (positions.get(id) ?? 0n)) positions.set(id, next);
        return caughtUp();
      },
    };
  }

  async producer(): Promise<Producer> {
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: cachedPartitioner,
    });
    await connect(producer);
    this.#closers.push(() => producer.disconnect());
    return {
      send: async (records) => {
        for (const topicMessages of produceCalls(records)) {
          await producer.sendBatch({ acks: -1, topicMessages });
        }
      },
      close: () => producer.disconnect(),
    };
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.#kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60000,
      createPartitioner: cachedPartitioner,
    });
    await connect(producer);
    this.#closers.push(() => producer.disconnect());
    return {
      sendWithOffsets: async (records, commit) => {
        const tx = await producer.transaction();
        try {
          // Several produce calls, one transaction: each call stays under the broker's limits.
          for (const topicMessages of produceCalls(records)) {
            await tx.sendBatch({ acks: -1, topicMessages });
          }
          if (commit.offsets.length > 0) {
            await tx.sendOffsets({
              consumerGroupId: commit.generation.groupId,
              topics: groupByTopic(commit.offsets),
            });
          }
          await tx.commit();
        } catch (error) {
          await tx.abort().catch(() => {});
          throw error;
        }
      },
      close: () => producer.disconnect(),
    };
  }

  async close(): Promise<void> {
    const closers = this.#closers.splice(0).reverse();
    for (const close of closers) await close().catch(() => {});
  }
}

async function connect(producer: KjsProducer): Promise<void> {
  try {
    await producer.connect();
  } catch (error) {
    throw unavailable(error);
  }
}

/**
 * Retries a call that fails while a fresh broker is still settling (the group coordinator loads,
 * a new topic has no leader yet); kafkajs retries some of these itself, not all. Short and
 * bounded: longer outages are waited out by the parts' supervisor (supervise.ts).
 */
async function retryTransient<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransientKafkaError(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function unavailable(error: unknown): Error {
  if (error instanceof UnavailableError) return error;
  return new UnavailableError(`Kafka is not reachable: ${(error as Error).message}`, {
    cause: error,
  });
}

function decodeHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    out[name] = typeof value === "string" ? value : decoder.decode(value as Uint8Array);
  }
  return out;
}

/**
 * The records as kafkajs messages, in produce calls under the broker's limits (sized here, so a
 * too-large call never reaches the broker). Keys and values become Buffers one call at a time
 * (kafkajs would measure and encode each string twice), and a string equal to the previous
 * record's is encoded once: the processor's SECURE, status and blacklist records share theirs.
 */
function* produceCalls(records: OutgoingRecord[]) {
  let last: string | null = null;
  let lastBytes = 0;
  const utf8 = (text: string | null) => {
    if (text === null) return 0;
    if (text !== last) [last, lastBytes] = [text, Buffer.byteLength(text, "utf8")];
    return lastBytes;
  };
  const sizes = new Map<OutgoingRecord, number>();
  for (const r of records) {
    sizes.set(r, RECORD_OVERHEAD + utf8(r.key) + utf8(r.value) + headerBytes(r.headers));
  }
  for (const call of splitForProduce(records, (r) => r.topic, (r) => sizes.get(r)!)) {
    yield toTopicMessages(call);
  }
}

function toTopicMessages(records: OutgoingRecord[]) {
  const byTopic = new Map<string, Message[]>();
  let lastKey: string | null = null;
  let keyBuffer: Buffer | null = null;
  let lastValue: string | null = null;
  let valueBuffer: Buffer | null = null;
  for (const r of records) {
    if (r.key !== lastKey || keyBuffer === null) {
      lastKey = r.key;
      keyBuffer = r.key === null ? null : Buffer.from(r.key, "utf8");
    }
    if (r.value !== lastValue || valueBuffer === null) {
      lastValue = r.value;
      valueBuffer = r.value === null ? null : Buffer.from(r.value, "utf8");
    }
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, list = []);
    list.push({
      key: keyBuffer,
      value: valueBuffer,
      headers: r.headers,
      timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
    });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function groupByTopic(offsets: PartitionOffset[]) {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    let list = byTopic.get(o.topic);
    if (!list) byTopic.set(o.topic, list = []);
    list.push({ partition: o.partition, offset: o.offset });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
