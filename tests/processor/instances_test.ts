/**
 * Several `process` instances (child processes) on the real broker share a raw topic of 6
 * partitions holding 60,000 transactions: one is killed with SIGKILL mid-stream and started again,
 * a third joins while records flow, one is paused (SIGSTOP) past its session and resumed as a
 * zombie. Every derived feed, read with read_committed, must equal an oracle computed here from
 * the raw records (hashes with Web Crypto), and TRANSACTIONS_SECURE must hold each transaction
 * exactly once. Each run has its own topics (PROCESSOR_TOPIC_PREFIX), group and state dirs.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { runProducer } from "../../src/producer/producer.ts";
import { CURRENCY_RATES } from "../../src/producer/rates.ts";
import type { RawTransaction } from "../../src/processor/validate.ts";
import { spawnMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { expectedHmac, latestByKey, readTopic } from "./kafka_helpers.ts";

const COUNT = 60_000;
const PARTITIONS = 6;
const NOW = Date.parse("2026-03-01T00:00:00Z");

interface Run {
  kafka: KafkaClient;
  env: Record<string, string>;
  prefix: string;
  raw: string;
  group: string;
}

async function newRun(kafka: KafkaClient): Promise<Run> {
  const config = await testConfig();
  const prefix = `${uniqueName("mi")}_`;
  const raw = `${prefix}raw`;
  const group = config.kafka.groupId;
  await kafka.ensureTopics([{ topic: raw, partitions: PARTITIONS }]);
  return {
    kafka,
    prefix,
    raw,
    group,
    env: {
      KAFKA_BROKERS: config.kafka.brokers.join(","),
      KAFKA_GROUP_ID: group,
      ANONYMIZATION_KEY: `mi-key-${crypto.randomUUID()}`,
      RAW_TOPIC: raw,
      REJECTED_TOPIC: `${prefix}rejected`,
      PROCESSOR_TOPIC_PREFIX: prefix,
    },
  };
}

async function produce(run: Run, count: number, seed: number) {
  const config = await testConfig();
  await runProducer({
    config,
    kafka: run.kafka,
    log: silentLogger,
    count,
    seed,
    now: NOW,
    users: 100,
    topics: { raw: run.raw, rates: `${run.prefix}CURRENCY_RATES` },
  });
}

class Instance {
  readonly child: Deno.ChildProcess;
  /** Its log so far (JSON lines on stderr). */
  log = "";
  exited = false;
  readonly output: Promise<unknown>;
  constructor(run: Run, readonly stateDir: string) {
    const child = spawnMain(["process"], { ...run.env, PROCESSOR_STATE_DIR: stateDir });
    this.child = child;
    const drainOut = (async () => {
      for await (const _ of child.stdout) { /* progress lines: not needed */ }
    })();
    const readErr = (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.log += text;
      }
    })();
    this.output = Promise.all([child.status, drainOut, readErr]).then(() => {
      this.exited = true;
    });
  }
}

/** Waits, bounded, for `ok`; `what` names the event in the failure. */
async function until(ok: () => Promise<boolean>, what: string, seconds = 300) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting: ${what}`);
}

async function committedSum(run: Run): Promise<number> {
  const committed = await run.kafka.committedOffsets(`${run.group}.processor`, [run.raw]);
  return committed.reduce((n, o) => n + Number(o.offset), 0);
}

/**
 * Stage one's group has committed up to the end of the raw topic, and stage two has counted every
 * transaction into the windows. (Stage two's committed offsets cannot serve: a partition whose
 * tail is an aborted transaction, a zombie's, yields no record to hand over, so nothing commits
 * past it.)
 */
async function caughtUp(run: Run): Promise<boolean> {
  const ends = await run.kafka.endOffsets(run.raw);
  const committed = new Map(
    (await run.kafka.committedOffsets(`${run.group}.processor`, [run.raw]))
      .map((o) => [o.partition, o.offset]),
  );
  if (ends.some((e) => e.offset !== "0" && committed.get(e.partition) !== e.offset)) return false;
  const windows = new Map<string, number>();
  for (const r of await readTopic(run.kafka, `${run.prefix}SPEND_LAST_FIVE_MIN_BY_TYPE`)) {
    const v = JSON.parse(r.value!);
    windows.set(`${v.TRANSACTION_TYPE} ${v.WINDOW_START}`, v.TRANSACTION_COUNT);
  }
  return [...windows.values()].reduce((a, b) => a + b, 0) >= COUNT;
}

async function stopAll(instances: Instance[]) {
  for (const i of instances) {
    try {
      i.child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  await Promise.all(instances.map((i) => i.output));
}

/** Every derived feed against what the raw records say. */
async function assertExact(run: Run) {
  const raws: RawTransaction[] = (await readTopic(run.kafka, run.raw)).map((r) =>
    JSON.parse(r.value!)
  );
  assert.equal(raws.length, COUNT);
  const key = run.env.ANONYMIZATION_KEY;
  const hashOf = new Map<string, string>();
  for (const r of raws) {
    if (!hashOf.has(r.USER_ID)) hashOf.set(r.USER_ID, await expectedHmac(key, r.USER_ID));
  }
  const spending = new Map<string, { micros: number; count: number }>();
  const windows = new Map<string, { micros: number; count: number }>();
  const users = new Map<string, { first: number; last: number }>();
  for (const r of raws) {
    const micros = Math.round(Number((r.AMOUNT * CURRENCY_RATES[r.CURRENCY]).toFixed(6)) * 1e6);
    const type = r.TRANSACTION_TYPE ?? "UNKNOWN";
    const ms = Date.parse(r.TIMESTAMP);
    const start = new Date(Math.floor(ms / 300_000) * 300_000).toISOString();
    const add = (map: Map<string, { micros: number; count: number }>, k: string) => {
      const e = map.get(k) ?? { micros: 0, count: 0 };
      e.micros += micros;
      e.count++;
      map.set(k, e);
    };
    add(spending, JSON.stringify([hashOf.get(r.USER_ID), type]));
    add(windows, `${type} ${start}`);
    const h = hashOf.get(r.USER_ID)!;
    const u = users.get(h) ?? { first: ms, last: ms };
    users.set(h, { first: Math.min(u.first, ms), last: Math.max(u.last, ms) });
  }

  const secure = (await readTopic(run.kafka, `${run.prefix}TRANSACTIONS_SECURE`))
    .map((r) => JSON.parse(r.value!).TRANSACTION_ID as string).sort();
  assert.equal(secure.length, COUNT, "TRANSACTIONS_SECURE: each transaction once");
  assert.deepEqual(secure, raws.map((r) => r.TRANSACTION_ID).sort());

  const totals = (m: Map<string, Record<string, unknown>>) =>
    new Map(
      [...m].map(([k, v]) => [k, {
        micros: Math.round((v.TOTAL_AMOUNT_USD as number) * 1e6),
        count: v.TRANSACTION_COUNT as number,
      }]),
    );
  const gotSpending = latestByKey(
    await readTopic(run.kafka, `${run.prefix}USER_SPENDING_BY_TYPE`),
  );
  assert.deepEqual(totals(gotSpending), spending, "USER_SPENDING_BY_TYPE");

  const gotWindows = new Map<string, Record<string, unknown>>();
  for (const r of await readTopic(run.kafka, `${run.prefix}SPEND_LAST_FIVE_MIN_BY_TYPE`)) {
    const v = JSON.parse(r.value!);
    gotWindows.set(`${v.TRANSACTION_TYPE} ${v.WINDOW_START}`, v);
  }
  assert.deepEqual(totals(gotWindows), windows, "SPEND_LAST_FIVE_MIN_BY_TYPE");

  const gotUsers = latestByKey(await readTopic(run.kafka, `${run.prefix}USERS`));
  assert.deepEqual(
    new Map([...gotUsers].map(([k, v]) => [k, {
      first: Date.parse(v.FIRST_SEEN_AT as string),
      last: Date.parse(v.LAST_SEEN_AT as string),
    }])),
    users,
    "USERS",
  );
}

Deno.test({
  name:
    "process ×3 on 6 partitions: SIGKILL of one mid-stream and its restart, a third joining while records flow; every feed exact",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const kafka = testKafka();
    const instances: Instance[] = [];
    try {
      const run = await newRun(kafka);
      await produce(run, COUNT / 2, 21);
      const [dirA, dirB, dirC] = [
        await Deno.makeTempDir(),
        await Deno.makeTempDir(),
        await Deno.makeTempDir(),
      ];
      const a = new Instance(run, dirA);
      const b = new Instance(run, dirB);
      instances.push(a, b);
      await until(async () => await committedSum(run) >= 8_000, "a first share processed");
      a.child.kill("SIGKILL");
      await a.output;
      // Same state dir: the same slot, hence the same transactional ids as the killed one.
      const a2 = new Instance(run, dirA);
      instances.push(a2);
      const more = produce(run, COUNT / 4, 22);
      await until(async () => await committedSum(run) >= COUNT / 2 + 5_000, "records flowing");
      const c = new Instance(run, dirC);
      instances.push(c);
      await more;
      // The third has joined and loaded partitions of its own (not a time: under load its start
      // can outlast the first quarter's processing); the last quarter is written only then, so
      // it takes part while records flow.
      await until(
        () => Promise.resolve(c.log.includes("processor.partitions_restored")),
        "the third instance restored its partitions",
      );
      await produce(run, COUNT / 4, 23);
      await until(() => caughtUp(run), "all instances caught up");
      await stopAll(instances);
      await assertExact(run);
    } finally {
      await stopAll(instances).catch(() => {});
      await kafka.close();
    }
  },
});

Deno.test({
  name:
    "process ×2: one paused (SIGSTOP) past its session while the group rebalances, then resumed: its commit is refused, nothing duplicated",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const kafka = testKafka();
    const instances: Instance[] = [];
    try {
      const run = await newRun(kafka);
      await produce(run, COUNT, 31);
      const zombie = new Instance(run, await Deno.makeTempDir());
      instances.push(zombie);
      await until(async () => await committedSum(run) >= 3_000, "the first instance works");
      zombie.child.kill("SIGSTOP");
      const other = new Instance(run, await Deno.makeTempDir());
      instances.push(other);
      // The paused member's session expires; the other gets every partition and goes on.
      await until(async () => await committedSum(run) >= COUNT - 1, "the other took over", 400);
      zombie.child.kill("SIGCONT");
      // The resumed zombie tries to commit what it held under its old generation.
      await until(
        () => Promise.resolve(zombie.exited || zombie.log.includes("processor.commit_refused")),
        "the zombie's attempt",
      );
      assert.match(zombie.log, /processor\.commit_refused/, "the zombie's commit was refused");
      await until(() => caughtUp(run), "caught up").catch((error) => {
        Deno.writeTextFileSync(
          `${Deno.env.get("INSTANCES_TEST_LOGS") ?? "/dev/null"}`,
          `ZOMBIE\n${zombie.log}\nOTHER\n${other.log}\n`,
        );
        throw error;
      });
      await stopAll(instances);
      await assertExact(run);
    } finally {
      await stopAll(instances).catch(() => {});
      await kafka.close();
    }
  },
});
