/**
 * Restarts: totals after a restart equal those of one uninterrupted run, and a processor killed
 * with SIGKILL mid-stream, then restarted, leaves each transaction exactly once in its outputs.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import type { PartitionOffset } from "../../src/kafka/client.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { type ProcessorTopics, processorTopics } from "../../src/processor/topics.ts";
import { runProducer } from "../../src/producer/producer.ts";
import { CURRENCY_RATES } from "../../src/producer/rates.ts";
import type { RawTransaction } from "../../src/processor/validate.ts";
import { runMain, spawnMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { isolatedTopics, outputTopics } from "./fixtures.ts";
import { expectedHmac, latestByKey, readTopic } from "./kafka_helpers.ts";

const NOW = Date.parse("2026-03-01T00:00:00Z");

async function produceInto(topics: ProcessorTopics, seed: number, count: number) {
  const config = await testConfig();
  const kafka = testKafka();
  try {
    await runProducer({
      config,
      kafka,
      log: silentLogger,
      count,
      seed,
      now: NOW,
      users: 30,
      topics: { raw: topics.raw, rates: topics.rates },
    });
  } finally {
    await kafka.close();
  }
}

async function processOnce(topics: ProcessorTopics, groupId: string) {
  const config = await testConfig({ env: { KAFKA_GROUP_ID: groupId } });
  const kafka = testKafka();
  try {
    return await startProcessor({ config, kafka, log: silentLogger, once: true, topics }).done;
  } finally {
    await kafka.close();
  }
}

/** What a lake consumer would end up with: stream records by id, table state by key. */
async function outputsOf(topics: ProcessorTopics) {
  const kafka = testKafka();
  try {
    const streams: Record<string, string[]> = {};
    for (
      const [name, topic] of Object.entries({
        secure: topics.secure,
        usd: topics.usd,
        blacklisted: topics.blacklisted,
        ...topics.byStatus,
      })
    ) {
      streams[name] = (await readTopic(kafka, topic)).map((r) => r.value!).sort();
    }
    const windows = new Map<string, unknown>();
    for (const r of await readTopic(kafka, topics.windows)) {
      const v = JSON.parse(r.value!);
      windows.set(`${v.TRANSACTION_TYPE} ${v.WINDOW_START}`, v);
    }
    return {
      streams,
      userSpending: latestByKey(await readTopic(kafka, topics.userSpending)),
      users: latestByKey(await readTopic(kafka, topics.users)),
      windows,
    };
  } finally {
    await kafka.close();
  }
}

Deno.test("processor: totals after a restart equal those of one uninterrupted run", async () => {
  const interrupted = isolatedTopics();
  const straight = isolatedTopics();
  // The same two halves of data in both raw topics.
  for (const topics of [interrupted, straight]) {
    await produceInto(topics, 101, 400);
    await produceInto(topics, 202, 400);
  }
  const group = uniqueName("g").toLowerCase();
  const first = await processOnce(interrupted, group);
  assert.equal(first.recordsIn, 800);
  // A second start of the same group has nothing new: state is rebuilt, nothing re-emitted.
  const again = await processOnce(interrupted, group);
  assert.equal(again.recordsIn, 0);
  await produceInto(interrupted, 303, 300);
  const second = await processOnce(interrupted, group);
  assert.equal(second.recordsIn, 300);

  await produceInto(straight, 303, 300);
  const whole = await processOnce(straight, uniqueName("g").toLowerCase());
  assert.equal(whole.recordsIn, 1100);

  const a = await outputsOf(interrupted);
  const b = await outputsOf(straight);
  assert.equal(a.streams.secure.length, 1100);
  assert.deepEqual(a.streams, b.streams);
  assert.deepEqual(a.userSpending, b.userSpending);
  assert.deepEqual(a.users, b.users);
  assert.deepEqual(a.windows, b.windows);
  const count = [...a.userSpending.values()].reduce(
    (n, v) => n + (v.TRANSACTION_COUNT as number),
    0,
  );
  assert.equal(count, 1100);
});

Deno.test("process: refuses to start without ANONYMIZATION_KEY", async () => {
  const config = await testConfig();
  const result = await runMain(["process", "--once"], {
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    ANONYMIZATION_KEY: "",
    RAW_TOPIC: uniqueName("raw"),
  });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /ANONYMIZATION_KEY is not set/);
});

/**
 * The child runs with default derived topic names (a child process reads its topics from the
 * config), on a raw topic, group and key of its own; the test reads only what was added after
 * its start and only records of its own users (hashed with its own key).
 */
Deno.test("process: SIGKILL mid-stream, then `process --once`: every transaction exactly once, totals right", async () => {
  const config = await testConfig();
  const key = `kill-test-${crypto.randomUUID()}`;
  const rawTopic = uniqueName("raw_kill");
  const env = {
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    KAFKA_GROUP_ID: config.kafka.groupId,
    ANONYMIZATION_KEY: key,
    RAW_TOPIC: rawTopic,
    REJECTED_TOPIC: uniqueName("rejected_kill"),
    // The killed member leaves the group after this, not the default 30 s: the rerun's join
    // waits for it either way (Kafka's shortest session).
    KAFKA_SESSION_TIMEOUT_MS: "6000",
  };
  // The names the child derives from its config: the defaults, with its own raw and rejected topics.
  const defaults = processorTopics({ ...config, rawTopic, rejectedTopic: env.REJECTED_TOPIC });
  const COUNT = 12000;
  const kafka = testKafka();
  try {
    // The raw transactions, kept here to work out the expected outputs.
    const raws: RawTransaction[] = [];
    await runProducer({
      config,
      kafka,
      log: silentLogger,
      count: COUNT,
      seed: 7,
      users: 40,
      topics: { raw: rawTopic },
    });
    for (const r of await readTopic(kafka, rawTopic)) raws.push(JSON.parse(r.value!));
    assert.equal(raws.length, COUNT);

    // As many partitions as the raw topic, as the processor creates them (per-user state follows
    // the raw partitions): on a fresh broker this test may be the first to create them.
    const rawPartitions = (await kafka.endOffsets(rawTopic)).length;
    await kafka.ensureTopics(
      outputTopics(defaults).map((topic) => ({ topic, partitions: rawPartitions })),
    );
    const starts = new Map<string, PartitionOffset[]>();
    for (const topic of outputTopics(defaults)) starts.set(topic, await kafka.endOffsets(topic));

    const child = spawnMain(["process"], env);
    let exited = false;
    const status = child.status.then(() => exited = true);
    // Kill as soon as the first transaction is committed: most of the stream is still to come.
    for (;;) {
      if (exited) {
        const out = await child.output();
        assert.fail(`process exited early: ${new TextDecoder().decode(out.stderr)}`);
      }
      const committed = await kafka.committedOffsets(`${config.kafka.groupId}.processor`, [
        rawTopic,
      ]);
      if (committed.some((o) => Number(o.offset) > 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    await child.output();
    await status;

    const rerun = await runMain(["process", "--once"], env);
    assert.equal(rerun.code, 0, rerun.stderr);

    // Streams: each of our transactions exactly once (read_committed), nothing else of ours.
    const userIds = [...new Set(raws.map((r) => r.USER_ID))];
    const hashOf = new Map<string, string>();
    for (const id of userIds) hashOf.set(id, await expectedHmac(key, id));
    const ours = new Set(hashOf.values());
    const expectedIds = raws.map((r) => r.TRANSACTION_ID).sort();
    for (const topic of [defaults.secure, defaults.usd]) {
      const ids = (await readTopic(kafka, topic, starts.get(topic)))
        .map((r) => JSON.parse(r.value!))
        .filter((v) => ours.has(v.USER_ID_HASHED))
        .map((v) => v.TRANSACTION_ID)
        .sort();
      assert.equal(ids.length, COUNT, `${topic}: ${ids.length} records for ${COUNT}`);
      assert.deepEqual(ids, expectedIds);
    }

    // Totals per (user, type), worked out here from the raw records and the published rates.
    const expected = new Map<string, { micros: number; count: number }>();
    for (const r of raws) {
      const k = JSON.stringify([hashOf.get(r.USER_ID), r.TRANSACTION_TYPE ?? "UNKNOWN"]);
      const e = expected.get(k) ?? { micros: 0, count: 0 };
      e.micros += Math.round(Number((r.AMOUNT * CURRENCY_RATES[r.CURRENCY]).toFixed(6)) * 1e6);
      e.count++;
      expected.set(k, e);
    }
    const spending = latestByKey(
      await readTopic(kafka, defaults.userSpending, starts.get(defaults.userSpending)),
    );
    const got = new Map<string, { micros: number; count: number }>();
    for (const [k, v] of spending) {
      if (!ours.has(v.USER_ID_HASHED as string)) continue;
      got.set(k, {
        micros: Math.round((v.TOTAL_AMOUNT_USD as number) * 1e6),
        count: v.TRANSACTION_COUNT as number,
      });
    }
    assert.deepEqual(got, expected);
  } finally {
    await kafka.close();
  }
});
