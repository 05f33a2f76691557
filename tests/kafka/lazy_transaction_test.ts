/**
 * A transaction's records handed over as a lazy iterable (the processor transforms a chunk part by
 * part as its produce calls go out): against the real broker, records spread over several produce
 * calls arrive once each and in order, with the offsets; an iterable that fails after some calls
 * went out aborts the transaction, so nothing of it is visible and no offset is committed.
 */
import assert from "node:assert/strict";
import type { KafkaClient, OutgoingRecord, PartitionOffset } from "../../src/kafka/client.ts";
import { MAX_CALL_TOPIC_RECORDS } from "../../src/kafka/limits.ts";
import { testKafka, uniqueName } from "../helpers/env.ts";
import { readTopic } from "../processor/kafka_helpers.ts";

/** More records per topic than one produce call takes, so a transaction needs several. */
const COUNT = MAX_CALL_TOPIC_RECORDS * 3 + 123;

/** The group's committed offsets, polled (bounded) until they are `expected`: the commit marker
 * of a transaction lands just after its commit returns. */
async function committedBecomes(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
  expected: PartitionOffset[],
): Promise<PartitionOffset[]> {
  let committed = await kafka.committedOffsets(groupId, [topic]);
  for (let i = 0; i < 100 && JSON.stringify(committed) !== JSON.stringify(expected); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    committed = await kafka.committedOffsets(groupId, [topic]);
  }
  return committed;
}

function* records(
  topics: string[],
  pulled: { count: number },
  failAt?: number,
): Generator<OutgoingRecord> {
  for (let i = 0; i < COUNT; i++) {
    if (i === failAt) throw new Error(`transform failed at record ${i}`);
    for (const topic of topics) {
      pulled.count++;
      // Records sharing a value, as the processor's streams do, and one of their own.
      yield { topic, key: `k${i % 7}`, value: i % 2 ? `v${i}` : `v${i - 1}-shared`, partition: 0 };
    }
  }
}

Deno.test("lazy transaction: records from a generator go out in several calls, once each, in order", async () => {
  const kafka = testKafka();
  const a = uniqueName("lazy_a");
  const b = uniqueName("lazy_b");
  const input = uniqueName("lazy_in");
  const groupId = uniqueName("g").toLowerCase();
  try {
    await kafka.ensureTopics([{ topic: a }, { topic: b }, { topic: input }]);
    const tx = await kafka.transactionalProducer(uniqueName("tx_lazy"));
    const pulled = { count: 0 };
    await tx.sendWithOffsets(records([a, b], pulled), {
      generation: { groupId, memberId: "", generationId: -1 },
      offsets: [{ topic: input, partition: 0, offset: "42" }],
    });
    await tx.close();
    assert.equal(pulled.count, COUNT * 2);
    const expected = [...records([a], { count: 0 })].map((r) => r.value);
    assert.deepEqual((await readTopic(kafka, a)).map((r) => r.value), expected);
    assert.deepEqual((await readTopic(kafka, b)).map((r) => r.value), expected);
    const offsets = [{ topic: input, partition: 0, offset: "42" }];
    assert.deepEqual(await committedBecomes(kafka, groupId, input, offsets), offsets);
  } finally {
    await kafka.close();
  }
});

Deno.test("lazy transaction: a generator failing after calls went out aborts it; nothing of it visible or committed", async () => {
  const kafka = testKafka();
  const a = uniqueName("lazy_fail");
  const input = uniqueName("lazy_fail_in");
  const groupId = uniqueName("g").toLowerCase();
  try {
    await kafka.ensureTopics([{ topic: a }, { topic: input }]);
    const tx = await kafka.transactionalProducer(uniqueName("tx_lazy_fail"));
    const pulled = { count: 0 };
    // Past two full calls: at least one call was sent before the failure.
    const failAt = MAX_CALL_TOPIC_RECORDS * 2 + 10;
    await assert.rejects(
      tx.sendWithOffsets(records([a], pulled, failAt), {
        generation: { groupId, memberId: "", generationId: -1 },
        offsets: [{ topic: input, partition: 0, offset: "7" }],
      }),
      new RegExp(`transform failed at record ${failAt}`),
    );
    assert.equal(pulled.count, failAt);
    assert.deepEqual(await kafka.committedOffsets(groupId, [input]), []);
    // The producer is usable again: the next transaction commits alone.
    await tx.sendWithOffsets([{ topic: a, key: "k", value: "after the abort", partition: 0 }], {
      generation: { groupId, memberId: "", generationId: -1 },
      offsets: [{ topic: input, partition: 0, offset: "8" }],
    });
    await tx.close();
    assert.deepEqual((await readTopic(kafka, a)).map((r) => r.value), ["after the abort"]);
    const offsets = [{ topic: input, partition: 0, offset: "8" }];
    assert.deepEqual(await committedBecomes(kafka, groupId, input, offsets), offsets);
  } finally {
    await kafka.close();
  }
});
