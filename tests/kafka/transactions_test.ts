/**
 * KIP-447 against the real broker: a transactional offset commit carries the group generation of
 * the member that fetched the batch, so a zombie (a member whose partitions were given to another
 * after a rebalance) cannot commit, and its records never become visible to read_committed readers.
 */
import assert from "node:assert/strict";
import type { GroupGeneration, KafkaClient, RecordBatch } from "../../src/kafka/client.ts";
import { testKafka, uniqueName } from "../helpers/env.ts";
import { readTopic } from "../processor/kafka_helpers.ts";

/** Every value of `topic` a read_committed reader sees. */
async function readCommitted(kafka: KafkaClient, topic: string): Promise<string[]> {
  return (await readTopic(kafka, topic)).map((record) => record.value!);
}

/** Joins `groupId`, takes the first batch and returns its generation, holding the member. */
async function member(kafka: KafkaClient, groupId: string, topic: string) {
  let first!: (batch: RecordBatch) => void;
  const batch = new Promise<RecordBatch>((resolve) => (first = resolve));
  const handle = await kafka.consume({
    groupId,
    topics: [topic],
    commit: false,
    onBatch: (b) => (first(b), Promise.resolve()),
  });
  return { handle, batch: await batch };
}

Deno.test("KIP-447: a stale generation's transactional commit is refused; its records stay invisible", async () => {
  const kafka = testKafka();
  const input = uniqueName("t_in");
  const output = uniqueName("t_out");
  const groupId = uniqueName("g").toLowerCase();
  try {
    await kafka.ensureTopics([{ topic: input }, { topic: output }]);
    const producer = await kafka.producer();
    await producer.send([{ topic: input, key: "k", value: "a" }]);

    // The zombie: fetched the batch under the first generation, then the group moved on.
    const zombie = await member(kafka, groupId, input);
    const stale: GroupGeneration = zombie.batch.generation;
    assert.ok(stale.generationId >= 1 && stale.memberId !== "", JSON.stringify(stale));
    await zombie.handle.stop();
    const current = await member(kafka, groupId, input);
    assert.notEqual(current.batch.generation.memberId, stale.memberId);

    const offsets = [{ topic: input, partition: 0, offset: zombie.batch.nextOffset }];
    const zombieTx = await kafka.transactionalProducer(uniqueName("tx_zombie"));
    await assert.rejects(
      zombieTx.sendWithOffsets([{ topic: output, key: "k", value: "from the zombie" }], {
        generation: stale,
        offsets,
      }),
    );
    assert.deepEqual(await kafka.committedOffsets(groupId, [input]), []);

    // The member that owns the partition now commits under its generation.
    const liveTx = await kafka.transactionalProducer(uniqueName("tx_live"));
    await liveTx.sendWithOffsets([{ topic: output, key: "k", value: "from the owner" }], {
      generation: current.batch.generation,
      offsets,
    });
    await current.handle.stop();

    assert.deepEqual(await readCommitted(kafka, output), ["from the owner"]);
    let committed = await kafka.committedOffsets(groupId, [input]);
    for (let i = 0; i < 100 && committed.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      committed = await kafka.committedOffsets(groupId, [input]);
    }
    assert.deepEqual(committed, [{ topic: input, partition: 0, offset: "1" }]);
  } finally {
    await kafka.close();
  }
});
