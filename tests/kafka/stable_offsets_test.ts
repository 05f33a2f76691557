/**
 * A consumer that starts while a transaction holds offsets of its group (a previous owner's
 * commit not yet complete) waits for that transaction instead of starting from the offsets before
 * it: otherwise it would process the transaction's input a second time (duplicates downstream).
 * Kafka's OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile (KIP-447).
 * The open transaction is made with the library itself, the way a previous owner leaves it
 * between its offset commit and its end.
 */
import assert from "node:assert/strict";
import { Consumer, type Message, Producer } from "@platformatic/kafka";
import { connectKafka } from "../../src/kafka/connect.ts";
import { recordingLogger } from "../lake/_plant.ts";
import { produce } from "../lake/_fixtures.ts";
import { BROKERS, uniqueName } from "../helpers/env.ts";
import { waitFor } from "../e2e/service_helpers.ts";

Deno.test("a consumer starting under an open transaction's offset commit starts after it", async () => {
  const topic = uniqueName("T_STABLE");
  const groupId = uniqueName("g_stable");
  const { log, events } = recordingLogger();
  const kafka = connectKafka({
    kafka: { brokers: BROKERS.split(","), groupId: "unused", clientId: "tests" },
  }, log);
  const base = { clientId: "tests-previous-owner", bootstrapBrokers: BROKERS.split(",") };
  const producer = new Producer({
    ...base,
    idempotent: true,
    transactionalId: uniqueName("tx_stable"),
  });
  const group = new Consumer({ ...base, groupId });
  const seen: number[] = [];
  let handle: Awaited<ReturnType<typeof kafka.consume>> | undefined;
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    await produce(
      kafka,
      Array.from({ length: 10 }, (_, i) => ({ topic, key: null, value: `${i}` })),
    );
    // The previous owner handled offsets 0–9 and commits 10 in a transaction it has not ended.
    const tx = await producer.beginTransaction();
    await tx.addConsumer(group);
    await tx.addOffset({
      topic,
      partition: 0,
      offset: 9n, // the library commits the offset after this message's
      metadata: {
        consumer: {
          groupId,
          generationId: -1,
          memberId: "",
          coordinatorId: await group.findGroupCoordinator(),
        },
      },
    } as unknown as Message);

    handle = await kafka.consume({
      groupId,
      topics: [topic],
      onBatch: (batch) => {
        for (const r of batch.records) seen.push(Number(r.offset));
        return Promise.resolve();
      },
    });
    // It reports the wait, or (as it did before require_stable) reads from offset 0 at once.
    await waitFor("kafka.offsets_unstable or a record", () =>
      seen.length > 0 ||
      events.some((e) => e.event === "kafka.offsets_unstable" && e.group === groupId) ||
      undefined, 20_000);
    assert.equal(seen.length, 0, `read while the offsets are unstable: ${seen}`);

    await tx.commit();
    await produce(kafka, [{ topic, key: null, value: "10" }]);
    await waitFor("offset 10", () => seen.includes(10) || undefined, 20_000);
    assert.deepEqual(seen, [10]);
  } finally {
    await handle?.stop();
    await group.close(true).catch(() => {});
    await producer.close(true).catch(() => {});
    await kafka.close();
  }
});
