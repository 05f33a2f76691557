/**
 * Several processor instances behind the KafkaClient interface, on an in-memory broker
 * (fake_kafka.ts): partitions move between instances as they join and leave, a zombie's commit is
 * refused, restarts read only snapshots and what changed since. Every derived table is compared
 * with an oracle computed here from the raw transactions. The same scenarios run against the real
 * broker in instances_test.ts.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { type ProcessorHandle, startProcessor } from "../../src/processor/processor.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { CURRENCY_RATES } from "../../src/producer/rates.ts";
import { transactionGenerator } from "../../src/producer/transactions.ts";
import { POOL_SEED, userPool } from "../../src/producer/users.ts";
import type { RawTransaction } from "../../src/processor/validate.ts";
import { testConfig } from "../helpers/env.ts";
import { FakeBroker, FakeKafka } from "./fake_kafka.ts";
import { isolatedTopics } from "./fixtures.ts";
import { expectedHmac } from "./kafka_helpers.ts";

const KEY = "unit-anonymization-key";
const NOW = Date.parse("2026-03-01T00:00:00Z");
const dec = new TextDecoder();

function rawTransactions(count: number, seed: number): RawTransaction[] {
  const next = transactionGenerator({ seed, users: userPool(POOL_SEED, 60), now: NOW });
  return Array.from({ length: count }, () => next() as RawTransaction);
}

/** Waits (bounded) for `ok`. */
async function until(ok: () => boolean, what: string) {
  for (let i = 0; i < 6000 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), what);
}

async function setup(partitions = 6) {
  const broker = new FakeBroker();
  const kafka = new FakeKafka(broker);
  const topics = isolatedTopics();
  await kafka.ensureTopics([{ topic: topics.raw, partitions }, { topic: topics.rates }]);
  const producer = await kafka.producer();
  await producer.send(
    Object.entries(CURRENCY_RATES).map(([currency, rate]) => ({
      topic: topics.rates,
      key: currency,
      value: JSON.stringify({ CURRENCY: currency, RATE_TO_USD: rate }),
    })),
  );
  const group = `g${crypto.randomUUID().slice(0, 8)}`;
  return { broker, kafka, topics, group };
}

async function produce(kafka: FakeKafka, topics: ProcessorTopics, raws: RawTransaction[]) {
  const producer = await kafka.producer();
  await producer.send(
    raws.map((r) => ({ topic: topics.raw, key: r.USER_ID, value: JSON.stringify(r) })),
  );
}

interface Events {
  logger: Logger;
  events: { event: string; [k: string]: unknown }[];
}
function capture(): Events {
  const events: Events["events"] = [];
  const logger = new Logger({
    level: "info",
    sink: { write: (line) => events.push(JSON.parse(line)) },
  });
  return { logger, events };
}

async function instance(
  kafka: FakeKafka,
  topics: ProcessorTopics,
  group: string,
  stateDir: string,
  options: { once?: boolean; log?: Logger } = {},
): Promise<ProcessorHandle> {
  const config = await testConfig({
    env: { KAFKA_GROUP_ID: group, ANONYMIZATION_KEY: KEY, PROCESSOR_STATE_DIR: stateDir },
  });
  const log = options.log ?? new Logger({ level: "error", sink: { write: () => {} } });
  return startProcessor({ config, kafka, log, topics, once: options.once });
}

/** Waits (bounded) until both stages' groups have committed up to the ends of their inputs. */
async function caughtUp(kafka: FakeKafka, topics: ProcessorTopics, group: string) {
  const repartition = `${group}.processor-windows-repartition`;
  for (let i = 0; i < 3000; i++) {
    let done = true;
    for (
      const [g, topic] of [[`${group}.processor`, topics.raw], [
        `${group}.processor.windows`,
        repartition,
      ]]
    ) {
      const ends = await kafka.endOffsets(topic);
      const committed = new Map(
        (await kafka.committedOffsets(g, [topic])).map((o) => [o.partition, o.offset]),
      );
      if (ends.length === 0 || ends.some((e) => (committed.get(e.partition) ?? "0") !== e.offset)) {
        done = false;
      }
    }
    if (done) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail("the instances did not catch up");
}

function values(broker: FakeBroker, topic: string) {
  return broker.topics.get(topic)!.partitions.flat().map((r) => ({
    key: r.key === null ? null : dec.decode(r.key),
    value: r.value === null ? null : JSON.parse(dec.decode(r.value)),
    partition: r.partition,
  }));
}

/** What every table must hold, from the raw transactions alone. */
async function oracle(raws: RawTransaction[]) {
  const hashes = new Map<string, string>();
  for (const r of raws) {
    if (!hashes.has(r.USER_ID)) hashes.set(r.USER_ID, await expectedHmac(KEY, r.USER_ID));
  }
  const spending = new Map<string, { micros: number; count: number }>();
  const windows = new Map<string, { micros: number; count: number }>();
  const users = new Map<string, { first: number; last: number }>();
  for (const r of raws) {
    const micros = Math.round(Number((r.AMOUNT * CURRENCY_RATES[r.CURRENCY]).toFixed(6)) * 1e6);
    const type = r.TRANSACTION_TYPE ?? "UNKNOWN";
    const ms = Date.parse(r.TIMESTAMP);
    const start = new Date(Math.floor(ms / 300_000) * 300_000).toISOString();
    for (
      const [map, key] of [[spending, `${hashes.get(r.USER_ID)} ${type}`], [
        windows,
        `${type} ${start}`,
      ]] as const
    ) {
      const e = map.get(key) ?? { micros: 0, count: 0 };
      e.micros += micros;
      e.count++;
      map.set(key, e);
    }
    const u = users.get(hashes.get(r.USER_ID)!) ?? { first: ms, last: ms };
    users.set(hashes.get(r.USER_ID)!, { first: Math.min(u.first, ms), last: Math.max(u.last, ms) });
  }
  return { spending, windows, users };
}

function assertExact(
  broker: FakeBroker,
  topics: ProcessorTopics,
  raws: RawTransaction[],
  expected: Awaited<ReturnType<typeof oracle>>,
) {
  const ids = values(broker, topics.secure).map((r) => r.value.TRANSACTION_ID).sort();
  assert.deepEqual(ids, raws.map((r) => r.TRANSACTION_ID).sort(), "TRANSACTIONS_SECURE");
  const latest = (topic: string, keyOf: (v: Record<string, unknown>) => string) => {
    const m = new Map<string, Record<string, unknown>>();
    for (const r of values(broker, topic)) m.set(keyOf(r.value), r.value);
    return m;
  };
  const totals = (m: Map<string, Record<string, unknown>>) =>
    new Map(
      [...m].map(([k, v]) => [k, {
        micros: Math.round((v.TOTAL_AMOUNT_USD as number) * 1e6),
        count: v.TRANSACTION_COUNT as number,
      }]),
    );
  const spending = latest(topics.userSpending, (v) => `${v.USER_ID_HASHED} ${v.TRANSACTION_TYPE}`);
  assert.deepEqual(totals(spending), expected.spending, "USER_SPENDING_BY_TYPE");
  const windows = latest(topics.windows, (v) => `${v.TRANSACTION_TYPE} ${v.WINDOW_START}`);
  assert.deepEqual(totals(windows), expected.windows, "SPEND_LAST_FIVE_MIN_BY_TYPE");
  const users = latest(topics.users, (v) => v.USER_ID_HASHED as string);
  assert.deepEqual(
    new Map([...users].map(([k, v]) => [k, {
      first: Date.parse(v.FIRST_SEEN_AT as string),
      last: Date.parse(v.LAST_SEEN_AT as string),
    }])),
    expected.users,
    "USERS",
  );
  // Co-partitioned: a user's table updates are all in the raw partition of the user's records.
  const rawPartition = new Map(
    values(broker, topics.raw).map((r) => [r.value.USER_ID, r.partition]),
  );
  const hashOf = new Map<string, number>();
  for (const r of values(broker, topics.secure)) {
    const raw = raws.find((x) => x.TRANSACTION_ID === r.value.TRANSACTION_ID)!;
    hashOf.set(r.value.USER_ID_HASHED, rawPartition.get(raw.USER_ID)!);
  }
  for (const r of [...values(broker, topics.userSpending), ...values(broker, topics.users)]) {
    assert.equal(r.partition, hashOf.get(r.value.USER_ID_HASHED), "per-user update partition");
  }
}

Deno.test("instances (fake broker): three share 6 partitions, one joins mid-stream and one leaves: every table exact, each transaction once", async () => {
  const { broker, kafka, topics, group } = await setup();
  const raws = rawTransactions(6000, 11);
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  await produce(kafka, topics, raws.slice(0, 3000));
  const a = await instance(kafka, topics, group, dirs[0]);
  const b = await instance(kafka, topics, group, dirs[1]);
  while (a.stats().recordsIn + b.stats().recordsIn < 1000) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const c = await instance(kafka, topics, group, dirs[2]);
  // The rest comes once c is a member, so that some of it is c's to process.
  await until(() => broker.group(`${group}.processor`).members.length === 3, "c joined");
  await produce(kafka, topics, raws.slice(3000));
  await until(() => c.stats().recordsIn > 0, "c took partitions");
  await a.stop();
  await a.done;
  await caughtUp(kafka, topics, group);
  await Promise.all([b.stop(), c.stop()]);
  const stats = await Promise.all([a.done, b.done, c.done]);
  assert.equal(stats.reduce((n, s) => n + s.recordsIn, 0), 6000);
  assert.ok(stats.every((s) => s.recordsIn > 0), "every instance processed some");
  assertExact(broker, topics, raws, await oracle(raws));
});

Deno.test("instances (fake broker): a zombie's commit is refused; its partitions' work is done once by the others", async () => {
  const { broker, kafka, topics, group } = await setup();
  const raws = rawTransactions(4000, 12);
  await produce(kafka, topics, raws);
  // The zombie's transactions wait at a gate the test holds closed.
  let gate: (() => void) | undefined;
  let waiting: (() => void) | undefined;
  const held = new Promise<void>((r) => waiting = r);
  const zombieKafka = new FakeKafka(broker);
  const txOf = zombieKafka.transactionalProducer.bind(zombieKafka);
  zombieKafka.transactionalProducer = async (id) => {
    const tx = await txOf(id);
    if (!id.includes(".users.")) return tx;
    return {
      ...tx,
      sendWithOffsets: async (records, commit) => {
        if (!gate) {
          await new Promise<void>((r) => {
            gate = r;
            waiting!();
          });
        }
        return tx.sendWithOffsets(records, commit);
      },
    };
  };
  const zombie = await instance(zombieKafka, topics, group, await Deno.makeTempDir());
  await held; // the zombie holds a batch's outputs, not yet committed
  const other = await instance(kafka, topics, group, await Deno.makeTempDir());
  const zombieMember = broker.group(`${group}.processor`).members[0];
  await broker.expel(`${group}.processor`, zombieMember.id);
  gate!();
  await assert.rejects(zombie.done, /commit refused/);
  await caughtUp(kafka, topics, group);
  await other.stop();
  await other.done;
  assertExact(broker, topics, raws, await oracle(raws));
});

Deno.test("instances (fake broker): a restart reads its snapshots and no changelog history; a lost or stale snapshot falls back to the changelog", async () => {
  const { broker, kafka, topics, group } = await setup(4);
  broker.batchRecords = 100; // several transactions per partition
  const dir = await Deno.makeTempDir();
  const raws = rawTransactions(3000, 13);
  await produce(kafka, topics, raws.slice(0, 2000));
  await (await instance(kafka, topics, group, dir, { once: true })).done;

  const second = capture();
  await produce(kafka, topics, raws.slice(2000));
  await (await instance(kafka, topics, group, dir, { once: true, log: second.logger })).done;
  const restores = second.events.filter((e) => e.event === "processor.partitions_restored");
  const users = restores.find((e) => e.stage === "users")!;
  assert.equal(users.fromSnapshot, 4);
  // Only what the last transaction of each partition wrote is replayed (the snapshot claims the
  // changelog end it saw before that transaction), not the history.
  let history = 0;
  for (const t of [topics.userSpending, topics.users]) {
    for (const o of await kafka.endOffsets(t)) history += Number(o.offset);
  }
  assert.ok(
    (users.changelogRecords as number) < history / 3,
    `replayed ${users.changelogRecords} of ${history} changelog records`,
  );
  assertExact(broker, topics, raws, await oracle(raws));

  // Snapshots gone: the same state again, from the changelogs.
  await Deno.remove(dir, { recursive: true });
  const third = capture();
  const more = rawTransactions(500, 14);
  await produce(kafka, topics, more);
  await (await instance(kafka, topics, group, dir, { once: true, log: third.logger })).done;
  const full = third.events.find((e) =>
    e.event === "processor.partitions_restored" && e.stage === "users"
  )!;
  assert.equal(full.fromSnapshot, 0);
  assert.ok((full.changelogRecords as number) > 0);
  assertExact(broker, topics, [...raws, ...more], await oracle([...raws, ...more]));
});
