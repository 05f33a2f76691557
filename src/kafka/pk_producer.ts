/**
 * Producers on @platformatic/kafka: idempotent, acks=all, compressed with KAFKA_COMPRESSION,
 * partitioned like the Java client (murmur2 of the key, or the record's own partition), in produce
 * calls under the broker's size limits (limits.ts). The transactional one commits the consumer
 * group's offsets in the same transaction with the group generation (KIP-447).
 */
import { Buffer } from "node:buffer";
import {
  Consumer,
  type Message,
  type MessageToProduce,
  murmur2,
  Producer as PkProducer,
} from "@platformatic/kafka";
import { DEFAULT_COMPRESSION, type KafkaSettings } from "../config/kafka.ts";
import type {
  GroupGeneration,
  OutgoingRecord,
  PartitionOffset,
  Producer,
  TransactionalProducer,
} from "./client.ts";
import { CallBudget, headerBytes, RECORD_OVERHEAD } from "./limits.ts";
import { baseOptions, toBuffer } from "./pk_options.ts";
import { kafkaError, kafkaFailure } from "./pk_errors.ts";

type Outgoing = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * The plain (idempotent) producer gets more of the library's own retries than other requests
 * (pk_options.ts keeps those minimal): only the library can retry a produce without duplicates,
 * because it re-sends under the same producer id and sequence numbers, which the broker
 * deduplicates. Once a send has failed, the library drops its producer id, and a re-send of ours
 * (retry.ts) goes out under a new one: records the failed call had already written would be
 * written twice. So the library's budget covers a leader change: a killed broker is fenced after
 * broker.session.timeout.ms (9 s by default) before its partitions get new leaders, and a broker
 * coming back takes its partitions over again. About 40 s in all; beyond that it is an outage,
 * which retry.ts waits out. KAFKA_DELIVERY_TIMEOUT_MS sets that budget instead (as many retries
 * as their waits fit in). The transactional producer keeps the minimal retries: a transaction
 * that fails is aborted and the processor redoes it from its committed offsets.
 */
const PRODUCE_RETRIES = 24;
const PRODUCE_RETRY_MAX_MS = 2_000;

/** 250 ms, 500 ms, 1 s, then every 2 s. */
function produceRetryDelay(attempt: number): number {
  return Math.min(PRODUCE_RETRY_MAX_MS, 125 * 2 ** Math.max(1, attempt));
}

/** The library's retries of a plain produce: 24 (about 44 s), or those that fit in the timeout. */
export function produceRetries(deliveryTimeoutMs?: number): number {
  if (deliveryTimeoutMs === undefined) return PRODUCE_RETRIES;
  let retries = 0;
  let waited = produceRetryDelay(1);
  while (waited <= deliveryTimeoutMs) {
    retries++;
    waited += produceRetryDelay(retries + 1);
  }
  return retries;
}

function producerOptions(settings: KafkaSettings, role: string) {
  return {
    ...baseOptions(settings, role),
    idempotent: true,
    acks: -1,
    compression: settings.compression ?? DEFAULT_COMPRESSION,
    partitioner: javaPartitioner(),
    // InitProducerId with "no previous producer" (-1): the library's default (0, 0) names a
    // producer that does not exist, which the broker answers with PRODUCER_FENCED once the
    // transactional id has a history (every restart).
    producerId: -1n,
    producerEpoch: -1,
  };
}

/**
 * The Java client's default for keyed records (murmur2 of the key, made positive, modulo the
 * partition count, which the library applies), so our records land where Kafka Streams, ksqlDB
 * and other clients expect them; keyless records go round robin.
 */
function javaPartitioner() {
  let next = 0;
  return (_message: Outgoing, key: Buffer | undefined): number =>
    key === undefined ? (next = (next + 1) & 0x7fffffff) : murmur2(key) & 0x7fffffff;
}

export async function openProducer(settings: KafkaSettings): Promise<Producer> {
  const producer = new PkProducer<Buffer, Buffer, Buffer, Buffer>({
    ...producerOptions(settings, "producer"),
    retries: produceRetries(settings.deliveryTimeoutMs),
    retryDelay: (_client: unknown, _operation: string, attempt: number) =>
      produceRetryDelay(attempt),
  });
  const partitioner = javaPartitioner();
  try {
    await producer.initIdempotentProducer({});
  } catch (error) {
    await producer.close(true).catch(() => {});
    throw await kafkaFailure(error, settings);
  }
  return {
    send: async (records) => {
      try {
        const topics = [...new Set(records.map((r) => r.topic))];
        const counts = (await producer.metadata({ topics })).topics;
        // Every call sized before the first goes out: a record too large fails the whole send.
        for (const messages of [...produceCalls(records)]) {
          const calls = onePartitionEach(
            messages,
            (topic) => counts.get(topic)!.partitionsCount,
            partitioner,
          );
          const sent = await Promise.allSettled(calls.map((m) => producer.send({ messages: m })));
          const failed = sent.find((s) => s.status === "rejected");
          if (failed) throw failed.reason;
        }
      } catch (error) {
        throw kafkaError(error, settings);
      }
    },
    close: () => producer.close(true),
  };
}

export async function openTransactionalProducer(
  settings: KafkaSettings,
  transactionalId: string,
): Promise<TransactionalProducer> {
  const producer = new PkProducer<Buffer, Buffer, Buffer, Buffer>({
    ...producerOptions(settings, "tx"),
    transactionalId,
  });
  /** A client per group, not a member: it finds the group's coordinator and names the group. */
  const groups = new Map<string, { client: Consumer; coordinator: number }>();
  const group = async (groupId: string) => {
    let entry = groups.get(groupId);
    if (!entry) {
      const client = new Consumer({ ...baseOptions(settings, "tx-group"), groupId });
      try {
        entry = { client, coordinator: await client.findGroupCoordinator() };
      } catch (error) {
        await client.close(true).catch(() => {});
        throw error;
      }
      groups.set(groupId, entry);
    }
    return entry;
  };
  const forgetGroups = async () => {
    const all = [...groups.values()];
    groups.clear();
    for (const { client } of all) await client.close(true).catch(() => {});
  };
  try {
    // The transactional id is initialised by the first transaction; reach the cluster now.
    await producer.metadata({ topics: [] });
  } catch (error) {
    await producer.close(true).catch(() => {});
    throw await kafkaFailure(error, settings);
  }

  return {
    sendWithOffsets: async (records, commit) => {
      let tx;
      let inFlight: Promise<unknown> | undefined;
      try {
        tx = await producer.beginTransaction();
        // Several produce calls, one transaction: each call stays under the broker's limits. A
        // call is encoded from `records` (pulled as it goes) while the one before is in flight,
        // and sent once that one is answered: records stay in order, and only two calls' records
        // are held at once, never the whole transaction's.
        for (const messages of produceCalls(records)) {
          await inFlight;
          inFlight = tx.send({ messages });
          inFlight.catch(() => {}); // awaited below; a failure meanwhile is not unhandled
        }
        await inFlight;
        if (commit.offsets.length > 0) {
          const { client, coordinator } = await group(commit.generation.groupId);
          await tx.addConsumer(client);
          // One at a time: the library runs one offset commit per transaction at once.
          for (const offset of commit.offsets) {
            await tx.addOffset(offsetMessage(offset, commit.generation, coordinator));
          }
        }
        await tx.commit();
      } catch (error) {
        await inFlight?.catch(() => {}); // never abort under a call in flight
        if (tx && !tx.completed) await tx.abort().catch(() => {});
        // The coordinator may have moved: look it up again next time.
        await forgetGroups();
        throw kafkaError(error, settings);
      }
    },
    close: async () => {
      await forgetGroups();
      await producer.close(true);
    },
  };
}

/**
 * The messages of one produce call split into one call per partition, each message given its
 * partition. The library retries a call at the broker that led the call's first partition, with
 * every message of the call: a call spanning partitions whose leaders then part ways is refused
 * (NOT_LEADER_OR_FOLLOWER) until the library gives up, while a call of one partition follows its
 * leader. The calls go out side by side.
 */
function onePartitionEach(
  messages: Outgoing[],
  partitionsOf: (topic: string) => number,
  partitioner: (m: Outgoing, key: Buffer | undefined) => number,
): Outgoing[][] {
  const calls = new Map<string, Outgoing[]>();
  for (const m of messages) {
    const partition = (m.partition ?? partitioner(m, m.key)) % partitionsOf(m.topic);
    const id = `${m.topic}\0${partition}`;
    let call = calls.get(id);
    if (!call) calls.set(id, call = []);
    call.push({ ...m, partition });
  }
  return [...calls.values()];
}

/**
 * The library commits `offset + 1` of a consumed message, under the generation in its metadata:
 * our "next offset to read" as such a message.
 */
function offsetMessage(
  position: PartitionOffset,
  generation: GroupGeneration,
  coordinatorId: number,
): Message {
  return {
    topic: position.topic,
    partition: position.partition,
    offset: BigInt(position.offset) - 1n,
    metadata: {
      consumer: {
        groupId: generation.groupId,
        generationId: generation.generationId,
        memberId: generation.memberId,
        coordinatorId,
      },
    },
  } as unknown as Message;
}

/**
 * The records as the library's messages, in produce calls under the broker's limits (sized here,
 * so a too-large call never reaches the broker). Lazy: records are pulled and encoded as each call
 * fills, and a call is handed out once the next record does not fit. A string equal to the
 * previous record's is encoded once: the processor's SECURE, status and blacklist records share
 * theirs.
 */
function* produceCalls(records: Iterable<OutgoingRecord>): Generator<Outgoing[]> {
  const encodeKey = lastEncoded();
  const encodeValue = lastEncoded();
  const budget = new CallBudget();
  let call: Outgoing[] = [];
  for (const r of records) {
    let headers: Map<Buffer, Buffer> | undefined;
    for (const name in r.headers) {
      (headers ??= new Map()).set(toBuffer(name)!, toBuffer(r.headers[name])!);
    }
    const message: Outgoing = {
      topic: r.topic,
      key: encodeKey(r.key),
      value: typeof r.value === "string" || r.value === null
        ? encodeValue(r.value)
        : asBuffer(r.value),
      ...(headers ? { headers } : {}),
      ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
      ...(r.partition === undefined ? {} : { partition: r.partition }),
    };
    const size = RECORD_OVERHEAD + (message.key?.length ?? 0) + (message.value?.length ?? 0) +
      headerBytes(r.headers);
    if (!budget.take(r.topic, size)) {
      yield call;
      call = [];
      budget.reset();
      budget.take(r.topic, size);
    }
    call.push(message);
  }
  if (call.length > 0) yield call;
}

/** Bytes as the library's Buffer, sharing their memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** UTF-8 encoding that reuses the previous buffer when the text repeats. */
function lastEncoded(): (text: string | null) => Buffer | undefined {
  let lastText: string | null = null;
  let lastBuffer: Buffer | undefined;
  return (text) => {
    if (text === null) return undefined;
    if (text !== lastText || lastBuffer === undefined) {
      lastText = text;
      lastBuffer = toBuffer(text);
    }
    return lastBuffer;
  };
}
