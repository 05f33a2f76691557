/**
 * Rebalances against the real broker: a member gives up its partitions only once the batches in
 * hand have finished (`onRevoked` after them), and the member that gets them is told (`onAssigned`)
 * and reads them only after that.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import type { ConsumerHandle, TopicPartition } from "../../src/kafka/client.ts";
import { Logger } from "../../src/core/log.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { BROKERS, uniqueName } from "../helpers/env.ts";

const names = (parts: TopicPartition[]) => parts.map((p) => p.partition).sort().join(",");

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("rebalance: partitions are revoked after the batch in hand, before the new owner reads them", async () => {
  const lines: { event: string; batchesInHand?: number }[] = [];
  const log = new Logger({ level: "debug", sink: { write: (l) => lines.push(JSON.parse(l)) } });
  const kafka = connectKafka({
    kafka: { brokers: BROKERS.split(","), groupId: "unused", clientId: "tests" },
  }, log);
  const admin = new Admin({ clientId: "rebalance-test", bootstrapBrokers: BROKERS.split(",") });
  const topic = uniqueName("t_rebalance");
  const groupId = uniqueName("g").toLowerCase();
  const events: string[] = [];
  const handles: ConsumerHandle[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  try {
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = await kafka.producer();
    const produce = () =>
      producer.send(
        Array.from({ length: 20 }, (_, i) => ({
          topic,
          key: `k${i}`,
          value: `v${i}`,
          partition: i % 2,
        })),
      );
    await produce();

    let held = false;
    handles.push(
      await kafka.consume({
        groupId,
        topics: [topic],
        onAssigned: (p) => (events.push(`A assigned ${names(p)}`), Promise.resolve()),
        onRevoked: (p) => (events.push(`A revoked ${names(p)}`), Promise.resolve()),
        onBatch: async (batch) => {
          if (held) return;
          held = true;
          events.push(`A batch ${batch.partition} start`);
          await released;
          events.push(`A batch ${batch.partition} end`);
        },
      }),
    );
    await until("A's first batch", () => held);

    const joining = kafka.consume({
      groupId,
      topics: [topic],
      onAssigned: (p) => (events.push(`B assigned ${names(p)}`), Promise.resolve()),
      onRevoked: (p) => (events.push(`B revoked ${names(p)}`), Promise.resolve()),
      onBatch: (batch) => (events.push(`B batch ${batch.partition}`), Promise.resolve()),
    });
    // The group waits for A to rejoin; A, told to, waits for its batch in hand.
    await until("the rebalance to start", async () => {
      const groups = await admin.describeGroups({ groups: [groupId] });
      return groups.get(groupId)?.state === "PreparingRebalance";
    });
    await until(
      "A to be asked to rejoin",
      () => lines.some((l) => l.event === "kafka.rebalance" && l.batchesInHand === 1),
    );
    // A revocation that did not wait would follow within the same turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(events, ["A assigned 0,1", events[1]]);
    assert.match(events[1], /^A batch \d start$/);

    release();
    handles.push(await joining);
    await produce(); // records for both members after the rebalance
    await until("B's first batch", () => events.some((e) => e.startsWith("B batch")));

    const at = (prefix: string) => events.findIndex((e) => e.startsWith(prefix));
    assert.ok(at("A batch") < at("A revoked 0,1"), events.join("\n"));
    assert.ok(events.indexOf(events.find((e) => e.endsWith(" end"))!) < at("A revoked"));
    assert.ok(at("A revoked") < at("B assigned"), events.join("\n"));
    assert.ok(at("B assigned") < at("B batch"), events.join("\n"));
    // After the rebalance each member owns one partition and reads only that one.
    const bOwns = events.find((e) => e.startsWith("B assigned"))!.slice("B assigned ".length);
    const aOwns = events.filter((e) => e.startsWith("A assigned")).at(-1)!.slice(
      "A assigned ".length,
    );
    assert.deepEqual([aOwns, bOwns].sort(), ["0", "1"]);
    assert.ok(
      events.filter((e) => e.startsWith("B batch")).every((e) => e === `B batch ${bOwns}`),
      events.join("\n"),
    );
  } finally {
    release();
    for (const handle of handles) await handle.stop();
    await admin.close();
    await kafka.close();
  }
});

const SESSION_MS = 6000;

Deno.test("rebalance: a batch that outlasts the session does not get the member evicted", async () => {
  // The shortest session Kafka allows (KAFKA_SESSION_TIMEOUT_MS), so the slow batch can be short.
  const kafka = connectKafka({
    kafka: {
      brokers: BROKERS.split(","),
      groupId: "unused",
      clientId: "tests",
      sessionTimeoutMs: SESSION_MS,
    },
  }, new Logger({ level: "error", sink: { write: () => {} } }));
  const topic = uniqueName("t_slow");
  const groupId = uniqueName("g").toLowerCase();
  const generations: string[] = [];
  let handle: ConsumerHandle | undefined;
  try {
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await kafka.producer();
    await producer.send([{ topic, key: "k", value: "first" }]);
    let batches = 0;
    let second!: () => void;
    const secondSeen = new Promise<void>((resolve) => (second = resolve));
    handle = await kafka.consume({
      groupId,
      topics: [topic],
      onBatch: async (batch) => {
        generations.push(`${batch.generation.memberId}/${batch.generation.generationId}`);
        // The work itself is slow: longer than the session, heartbeats must go on.
        if (++batches === 1) await new Promise((resolve) => setTimeout(resolve, SESSION_MS + 4000));
        else second();
      },
    });
    await until("the first batch", () => generations.length === 1);
    await producer.send([{ topic, key: "k", value: "second" }]);
    await secondSeen;
    assert.equal(generations.length, 2);
    assert.equal(generations[1], generations[0], "same member, same generation: no eviction");
    // Both batches committed by the same member (a member evicted could not commit).
    await until("the second batch's commit", async () => {
      const committed = await kafka.committedOffsets(groupId, [topic]);
      return committed[0]?.offset === "2";
    });
  } finally {
    await handle?.stop();
    await kafka.close();
  }
});
