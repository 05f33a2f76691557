import assert from "node:assert/strict";
import type { RecordBatch } from "../../src/kafka/client.ts";
import { testKafka, uniqueName } from "../helpers/env.ts";
import { readTopic } from "../processor/kafka_helpers.ts";

const decoder = new TextDecoder();

Deno.test("kafka client: produce, consume until caught up, commit, resume with nothing new", async () => {
  const kafka = testKafka();
  const topic = uniqueName("t_client");
  const groupId = uniqueName("g").toLowerCase();
  try {
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = await kafka.producer();
    await producer.send(
      Array.from({ length: 50 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })),
    );

    const seen: string[] = [];
    const onBatch = (batch: RecordBatch) => {
      for (const r of batch.records) seen.push(decoder.decode(r.value!));
      return Promise.resolve();
    };
    const first = await kafka.consume({
      groupId,
      topics: [topic],
      stopWhenCaughtUp: true,
      onBatch,
    });
    await first.done;
    assert.equal(seen.length, 50);
    assert.deepEqual(new Set(seen), new Set(Array.from({ length: 50 }, (_, i) => `v${i}`)));

    const committed = await kafka.committedOffsets(groupId, [topic]);
    const total = committed.reduce((sum, o) => sum + Number(o.offset), 0);
    assert.equal(total, 50);

    const second = await kafka.consume({
      groupId,
      topics: [topic],
      stopWhenCaughtUp: true,
      onBatch,
    });
    await second.done;
    assert.equal(seen.length, 50, "a second run with nothing new reads nothing");
  } finally {
    await kafka.close();
  }
});

Deno.test("kafka client: a transaction commits records and offsets together; read_committed sees them", async () => {
  const kafka = testKafka();
  const input = uniqueName("t_in");
  const output = uniqueName("t_out");
  const groupId = uniqueName("g").toLowerCase();
  try {
    await kafka.ensureTopics([{ topic: input }, { topic: output }]);
    const producer = await kafka.producer();
    await producer.send([{ topic: input, key: null, value: "a" }, {
      topic: input,
      key: null,
      value: "b",
    }]);

    const tx = await kafka.transactionalProducer(uniqueName("tx"));
    const handle = await kafka.consume({
      groupId,
      topics: [input],
      commit: false,
      stopWhenCaughtUp: true,
      onBatch: (batch) =>
        tx.sendWithOffsets(
          batch.records.map((r) => ({
            topic: output,
            key: null,
            value: decoder.decode(r.value!).toUpperCase(),
          })),
          {
            generation: batch.generation,
            offsets: [{ topic: input, partition: batch.partition, offset: batch.nextOffset }],
          },
        ),
    });
    await handle.done;
    // Offsets sent in a transaction become visible once its markers are written: wait for them.
    let committed = await kafka.committedOffsets(groupId, [input]);
    for (let i = 0; i < 100 && committed.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      committed = await kafka.committedOffsets(groupId, [input]);
    }
    assert.deepEqual(committed, [{ topic: input, partition: 0, offset: "2" }]);

    const out = (await readTopic(kafka, output)).map((record) => record.value);
    assert.deepEqual(out, ["A", "B"]);
  } finally {
    await kafka.close();
  }
});
