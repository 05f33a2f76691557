/**
 * read_committed against the real broker: records of aborted transactions are never delivered,
 * even when a fetch ends before the abort marker (small fetches, a large aborted transaction, the
 * marker far behind its records, one producer aborting twice in one fetch). kcat, a client we did
 * not write, reads the same topics as the reference. A partition whose tail is aborted still moves
 * the consumer (onBatch sees the end as nextOffset, the group's commit reaches it) and
 * `stopWhenCaughtUp` ends there.
 */
import assert from "node:assert/strict";
import { Producer, stringSerializers } from "@platformatic/kafka";
import type { KafkaClient, RecordBatch } from "../../src/kafka/client.ts";
import { readTopic } from "../helpers/brokers.ts";
import { BROKERS, testKafka, uniqueName } from "../helpers/env.ts";

const decoder = new TextDecoder();
const PADDING = "x".repeat(2000);
/** Records per produce call: each call stays well under the broker's message size limit. */
const PER_CALL = 100;

type TxProducer = Producer<string, string, string, string>;

/** A transactional producer of the library, used as a plain outside writer. */
async function txProducer(): Promise<TxProducer> {
  const producer = new Producer({
    clientId: "aborted-test",
    bootstrapBrokers: BROKERS.split(","),
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    transactionalId: uniqueName("tx"),
    producerId: -1n,
    producerEpoch: -1,
  });
  await producer.metadata({ topics: [] });
  return producer;
}

type Tx = Awaited<ReturnType<TxProducer["beginTransaction"]>>;

async function send(tx: Tx, topic: string, values: string[]): Promise<void> {
  for (let i = 0; i < values.length; i += PER_CALL) {
    await tx.send({
      messages: values.slice(i, i + PER_CALL).map((value) => ({ topic, partition: 0, value })),
    });
  }
}

/** Commits `values` in a transaction of `producer`. */
async function commit(producer: TxProducer, topic: string, values: string[]): Promise<void> {
  const tx = await producer.beginTransaction();
  await send(tx, topic, values);
  await tx.commit();
}

/** A value without its padding, for readable failures. */
const short = (value: string) => value.replace(`-${PADDING}`, "");

const aborted = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `aborted-${from + i}-${PADDING}`);

interface Read {
  values: string[];
  offsets: bigint[];
  /** The largest nextOffset any batch handed to onBatch carried. */
  lastNext: bigint;
}

/** Everything our client delivers from the start of `topic`, read_committed, until caught up. */
async function readOurs(
  kafka: KafkaClient,
  topic: string,
  options: {
    maxBytesPerPartition?: number;
    commit?: boolean;
    groupId?: string;
    onBatch?: (batch: RecordBatch) => Promise<void>;
  } = {},
): Promise<Read> {
  const read: Read = { values: [], offsets: [], lastNext: -1n };
  const handle = await kafka.consume({
    groupId: options.groupId ?? uniqueName("reader").toLowerCase(),
    topics: [topic],
    readCommitted: true,
    stopWhenCaughtUp: true,
    commit: options.commit,
    maxBytesPerPartition: options.maxBytesPerPartition,
    onBatch: (batch: RecordBatch) => {
      for (const r of batch.records) {
        read.values.push(decoder.decode(r.value!));
        read.offsets.push(BigInt(r.offset));
      }
      const next = BigInt(batch.nextOffset);
      if (next > read.lastNext) read.lastNext = next;
      return options.onBatch?.(batch) ?? Promise.resolve();
    },
  });
  // stopWhenCaughtUp must end by itself (also when the end is an abort marker); bounded, so that
  // a consumer that never catches up fails the test instead of hanging it.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not caught up on ${topic} in 120 s`)), 120_000);
  });
  try {
    await Promise.race([handle.done, stuck]);
  } catch (error) {
    await handle.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return read;
}

/** Ours (with several fetch sizes) and kcat both deliver exactly `expected`, in offset order. */
async function assertCommittedOnly(
  kafka: KafkaClient,
  topic: string,
  expected: string[],
): Promise<void> {
  const outside = await readTopic(topic, { KAFKA_BROKERS: BROKERS });
  assert.deepEqual(outside.map((r) => short(r.value ?? "")), expected.map(short), "kcat");
  for (const maxBytesPerPartition of [16 * 1024, 64 * 1024, 1024 * 1024, undefined]) {
    const ours = await readOurs(kafka, topic, { maxBytesPerPartition });
    const leaked = ours.values.filter((v) => v.startsWith("aborted-")).map(short);
    assert.deepEqual(leaked, [], `aborted records delivered, fetch size ${maxBytesPerPartition}`);
    assert.deepEqual(ours.values.map(short), expected.map(short));
    assert.deepEqual(ours.offsets, outside.map((r) => BigInt(r.offset)));
  }
}

Deno.test("read_committed: a large aborted transaction interleaved with committed ones", async () => {
  const kafka = testKafka();
  const topic = uniqueName("aborted_interleaved");
  const [writer, other] = [await txProducer(), await txProducer()];
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const expected: string[] = [];
    const tx = await writer.beginTransaction();
    // 20 x 100 records of 2 KB: a 4 MB aborted transaction, a committed one between each part.
    for (let part = 0; part < 20; part++) {
      await send(tx, topic, aborted(PER_CALL, part * PER_CALL));
      const values = [`committed-${part}-a`, `committed-${part}-b`];
      await commit(other, topic, values);
      expected.push(...values);
    }
    await tx.abort();
    await commit(other, topic, ["committed-last"]);
    expected.push("committed-last");
    await assertCommittedOnly(kafka, topic, expected);
  } finally {
    await writer.close();
    await other.close();
    await kafka.close();
  }
});

Deno.test("read_committed: the abort marker megabytes after the aborted records", async () => {
  const kafka = testKafka();
  const topic = uniqueName("aborted_far");
  const [writer, other] = [await txProducer(), await txProducer()];
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const tx = await writer.beginTransaction();
    await send(tx, topic, aborted(1000));
    // 3 MB of committed records between the aborted records and their marker.
    const expected = Array.from({ length: 1500 }, (_, i) => `committed-${i}-${PADDING}`);
    for (let i = 0; i < expected.length; i += 500) {
      await commit(other, topic, expected.slice(i, i + 500));
    }
    await tx.abort();
    await assertCommittedOnly(kafka, topic, expected);
  } finally {
    await writer.close();
    await other.close();
    await kafka.close();
  }
});

Deno.test("read_committed: one producer aborting twice, committing between, in one fetch", async () => {
  const kafka = testKafka();
  const topic = uniqueName("aborted_twice");
  const writer = await txProducer();
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const expected: string[] = [];
    for (let round = 0; round < 3; round++) {
      let tx = await writer.beginTransaction();
      await send(tx, topic, aborted(3, round * 10));
      await tx.abort();
      tx = await writer.beginTransaction();
      await send(tx, topic, [`committed-${round}`]);
      await tx.commit();
      expected.push(`committed-${round}`);
    }
    const tx = await writer.beginTransaction();
    await send(tx, topic, aborted(3, 100));
    await tx.abort();
    await assertCommittedOnly(kafka, topic, expected);
  } finally {
    await writer.close();
    await kafka.close();
  }
});

Deno.test("read_committed: an aborted tail still moves the position, the commit and catch-up", async () => {
  const kafka = testKafka();
  const topic = uniqueName("aborted_tail");
  const writer = await txProducer();
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    await commit(writer, topic, ["committed-0"]);
    let tx = await writer.beginTransaction();
    await send(tx, topic, aborted(300));
    await tx.abort();
    tx = await writer.beginTransaction();
    await send(tx, topic, aborted(5, 1000));
    await tx.abort();
    const end = BigInt((await kafka.endOffsets(topic))[0].offset);
    assert.ok(end > 300n, `end ${end}`);

    for (const maxBytesPerPartition of [16 * 1024, undefined]) {
      // The group commits itself: its offset reaches the end, past the last abort marker.
      const groupId = uniqueName("tail").toLowerCase();
      const read = await readOurs(kafka, topic, { maxBytesPerPartition, groupId });
      assert.deepEqual(read.values.map(short), ["committed-0"]);
      assert.equal(read.lastNext, end, "onBatch saw the end as nextOffset");
      const committed = await kafka.committedOffsets(groupId, [topic]);
      assert.deepEqual(committed.map((c) => BigInt(c.offset)), [end]);

      // The caller commits in its own transactions (the processor): it is handed the end too.
      const own = await readOurs(kafka, topic, { maxBytesPerPartition, commit: false });
      assert.deepEqual(own.values.map(short), ["committed-0"]);
      assert.equal(own.lastNext, end, "commit: false, onBatch saw the end as nextOffset");
    }

    // As the processor: no commits by the consumer, each batch's nextOffset committed in a
    // transaction of the caller's, also for a batch without records. The group reaches the end.
    const groupId = uniqueName("tail_tx").toLowerCase();
    const committer = await kafka.transactionalProducer(uniqueName("tx_tail"));
    try {
      const read = await readOurs(kafka, topic, {
        groupId,
        commit: false,
        maxBytesPerPartition: 16 * 1024,
        onBatch: (batch) =>
          committer.sendWithOffsets([], {
            generation: batch.generation,
            offsets: [{ topic, partition: batch.partition, offset: batch.nextOffset }],
          }),
      });
      assert.deepEqual(read.values.map(short), ["committed-0"]);
    } finally {
      await committer.close();
    }
    let committed = -1n;
    for (let i = 0; i < 100 && committed !== end; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const offsets = await kafka.committedOffsets(groupId, [topic]);
      committed = offsets.length > 0 ? BigInt(offsets[0].offset) : -1n;
    }
    assert.equal(committed, end, "the transactional commits reached the end");
    const again = await readOurs(kafka, topic, { groupId, commit: false });
    assert.deepEqual(again.values, []);
  } finally {
    await writer.close();
    await kafka.close();
  }
});
