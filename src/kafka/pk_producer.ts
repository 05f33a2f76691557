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
import { headerBytes, RECORD_OVERHEAD, splitForProduce } from "./limits.ts";
import { baseOptions, toBuffer } from "./pk_options.ts";
import { kafkaError, kafkaFailure } from "./pk_errors.ts";

type Outgoing = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

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
  const producer = new PkProducer<Buffer, Buffer, Buffer, Buffer>(
    producerOptions(settings, "producer"),
  );
  try {
    await producer.initIdempotentProducer({});
  } catch (error) {
    await producer.close(true).catch(() => {});
    throw await kafkaFailure(error, settings);
  }
  return {
    send: async (records) => {
      try {
        for (const messages of produceCalls(records)) await producer.send({ messages });
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
      try {
        tx = await producer.beginTransaction();
        // Several produce calls, one transaction: each call stays under the broker's limits.
        for (const messages of produceCalls(records)) await tx.send({ messages });
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
 * so a too-large call never reaches the broker). A string equal to the previous record's is
 * encoded once: the processor's SECURE, status and blacklist records share theirs.
 */
function* produceCalls(records: OutgoingRecord[]): Generator<Outgoing[]> {
  const encodeKey = lastEncoded();
  const encodeValue = lastEncoded();
  const messages = new Map<OutgoingRecord, Outgoing>();
  for (const r of records) {
    let headers: Map<Buffer, Buffer> | undefined;
    for (const name in r.headers) {
      (headers ??= new Map()).set(toBuffer(name)!, toBuffer(r.headers[name])!);
    }
    messages.set(r, {
      topic: r.topic,
      key: encodeKey(r.key),
      value: typeof r.value === "string" || r.value === null
        ? encodeValue(r.value)
        : asBuffer(r.value),
      ...(headers ? { headers } : {}),
      ...(r.timestamp === undefined ? {} : { timestamp: BigInt(r.timestamp) }),
      ...(r.partition === undefined ? {} : { partition: r.partition }),
    });
  }
  const size = (r: OutgoingRecord) => {
    const m = messages.get(r)!;
    return RECORD_OVERHEAD + (m.key?.length ?? 0) + (m.value?.length ?? 0) +
      headerBytes(r.headers);
  };
  for (const call of splitForProduce(records, (r) => r.topic, size)) {
    yield call.map((r) => messages.get(r)!);
  }
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
