/**
 * One stage (stage.ts) on the in-memory broker (fake_kafka.ts): a transaction's chunk is handed to
 * the transformation part by part as the producer pulls its outputs, the aggregates last; a
 * transformation that fails mid-transaction aborts it, drops the partition's state and comes out
 * as its own error, never as a refused commit; the half-folded state is never snapshotted.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import type { KafkaRecord, OutgoingRecord } from "../../src/kafka/client.ts";
import { snapshotName, type StateKind } from "../../src/processor/restore.ts";
import { type ChunkRun, PART_RECORDS, startStage } from "../../src/processor/stage.ts";
import { openStateDir } from "../../src/processor/state_dir.ts";
import { FakeBroker, FakeKafka } from "./fake_kafka.ts";

const INPUT = "stage_in";
const OUT = "stage_out";
const CHANGELOG = "stage_totals";
const COUNT = 600; // one fake batch (700 records at most): a chunk of three parts

/** The state: how many input records were folded in. */
interface Counter {
  seen: number;
}

const counterKind: StateKind<Counter> = {
  name: "counter",
  empty: () => ({ seen: 0 }),
  fromSnapshot: (state) => state as Counter,
  toSnapshot: (tables) => tables,
  changelogs: [CHANGELOG],
  apply: () => {},
};

async function setup() {
  const broker = new FakeBroker();
  const kafka = new FakeKafka(broker);
  await kafka.ensureTopics([{ topic: INPUT }, { topic: OUT }, { topic: CHANGELOG }]);
  const producer = await kafka.producer();
  await producer.send(
    Array.from({ length: COUNT }, (_, i) => ({ topic: INPUT, key: `k${i}`, value: `${i}` })),
  );
  const events: { event: string }[] = [];
  const log = new Logger({ level: "info", sink: { write: (l) => events.push(JSON.parse(l)) } });
  const stateDir = await openStateDir(await Deno.makeTempDir(), "g", log);
  return { broker, kafka, log, events, stateDir };
}

/** A transformation: one output per input, the total at the end; `failAt` throws there. */
function counting(parts: number[], failAt?: number) {
  return (tables: Counter, partition: number): ChunkRun => ({
    add: (records: KafkaRecord[]) => {
      parts.push(records.length);
      return records.map((r): OutgoingRecord => {
        if (Number(r.offset) === failAt) throw new Error(`cannot transform offset ${r.offset}`);
        tables.seen++;
        return { topic: OUT, key: null, value: r.offset, partition };
      });
    },
    finish: () => [{ topic: CHANGELOG, key: "seen", value: String(tables.seen), partition }],
  });
}

Deno.test("stage: a chunk is transformed part by part as its outputs go out, the aggregates last", async () => {
  const { broker, kafka, log, stateDir } = await setup();
  const parts: number[] = [];
  const written: Map<string, number>[] = [];
  const producer = await kafka.transactionalProducer("tx");
  const stage = await startStage<Counter>({
    kafka,
    log,
    groupId: "g",
    input: INPUT,
    kind: counterKind,
    producer,
    seeder: producer,
    stateDir,
    snapshotIntervalMs: 60_000,
    fetchBytes: 1024 * 1024,
    once: true,
    begin: counting(parts),
    committed: (_chunk, w) => written.push(w),
  });
  await stage.done;
  stateDir.close();
  assert.ok(parts.every((n) => n <= PART_RECORDS), JSON.stringify(parts));
  assert.equal(parts.reduce((a, b) => a + b, 0), COUNT);
  const out = broker.topics.get(OUT)!.partitions[0].map((r) => new TextDecoder().decode(r.value!));
  assert.deepEqual(out, Array.from({ length: COUNT }, (_, i) => `${i}`));
  const totals = broker.topics.get(CHANGELOG)!.partitions[0];
  assert.equal(new TextDecoder().decode(totals[totals.length - 1].value!), `${COUNT}`);
  assert.deepEqual(
    written.reduce((sum, w) => sum + (w.get(OUT) ?? 0), 0),
    COUNT,
  );
  assert.equal(written.reduce((sum, w) => sum + (w.get(CHANGELOG) ?? 0), 0), written.length);
  assert.deepEqual(await kafka.committedOffsets("g", [INPUT]), [
    { topic: INPUT, partition: 0, offset: `${COUNT}` },
  ]);
});

Deno.test("stage: a transformation failing mid-transaction aborts it, drops the state, and is its own error", async () => {
  const { broker, kafka, log, events, stateDir } = await setup();
  const parts: number[] = [];
  const producer = await kafka.transactionalProducer("tx");
  // In the second part: the first part's outputs were already pulled.
  const failAt = PART_RECORDS + 10;
  const stage = await startStage<Counter>({
    kafka,
    log,
    groupId: "g",
    input: INPUT,
    kind: counterKind,
    producer,
    seeder: producer,
    stateDir,
    snapshotIntervalMs: 60_000,
    fetchBytes: 1024 * 1024,
    once: true,
    begin: counting(parts, failAt),
    committed: () => assert.fail("nothing may commit"),
  });
  await assert.rejects(stage.done, new RegExp(`cannot transform offset ${failAt}$`));
  assert.deepEqual(parts, [PART_RECORDS, PART_RECORDS]);
  // The state that holds part of the aborted chunk was dropped, not saved for the next start.
  assert.deepEqual(stage.owned(), []);
  assert.equal(await stateDir.read(snapshotName(counterKind, INPUT, 0)), undefined);
  stateDir.close();
  assert.deepEqual(broker.topics.get(OUT)!.partitions[0], []);
  assert.deepEqual(await kafka.committedOffsets("g", [INPUT]), []);
  assert.ok(!events.some((e) => e.event === "processor.commit_refused"), JSON.stringify(events));
});
