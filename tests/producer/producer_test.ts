/** The fake producer: a stable user pool, realistic and deterministic transactions, on Kafka. */
import assert from "node:assert/strict";
import { STATUSES } from "../../src/config/settings.ts";
import { silentLogger } from "../../src/core/log.ts";
import { runProducer } from "../../src/producer/producer.ts";
import { CURRENCY_RATES } from "../../src/producer/rates.ts";
import { transactionGenerator } from "../../src/producer/transactions.ts";
import { POOL_SEED, userPool } from "../../src/producer/users.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";

const NOW = Date.parse("2026-03-01T00:00:00Z");

Deno.test("userPool: stable ids U + 5 digits, blacklisted ids and country present, IPv4 and IPv6", () => {
  const pool = userPool(POOL_SEED, 200);
  assert.deepEqual(pool, userPool(POOL_SEED, 200));
  assert.equal(pool.length, 200);
  assert.ok(pool.every((u) => /^U\d{5}$/.test(u.USER_ID)));
  assert.equal(new Set(pool.map((u) => u.USER_ID)).size, 200);
  const ids = pool.map((u) => u.USER_ID);
  assert.ok(ids.includes("U00013") && ids.includes("U00042"));
  assert.ok(pool.filter((u) => u.COUNTRY === "North Korea").length >= 3);
  assert.ok(pool.some((u) => u.IP_ADDRESS.includes(":")));
  assert.ok(pool.some((u) => /^\d+\.\d+\.\d+\.\d+$/.test(u.IP_ADDRESS)));
  assert.ok(pool.every((u) => /\d/.test(u.STREET) && u.EMAIL.includes("@")));
});

Deno.test("transactionGenerator: deterministic per seed, every status, null types, 3-day spread", () => {
  const users = userPool(POOL_SEED, 50);
  const take = (seed: number) => {
    const next = transactionGenerator({ seed, users, now: NOW });
    return Array.from({ length: 3000 }, () => next());
  };
  const a = take(1);
  assert.deepEqual(a, take(1));
  assert.notDeepEqual(a, take(2));
  assert.equal(new Set(a.map((t) => t.TRANSACTION_ID)).size, a.length);
  assert.ok(a.every((t) => /^TXN-[0-9a-f]{8}$/.test(t.TRANSACTION_ID)));
  assert.deepEqual(new Set(a.map((t) => t.STATUS)), new Set(STATUSES));
  assert.ok(a.some((t) => t.TRANSACTION_TYPE === null));
  assert.ok(new Set(a.map((t) => t.CURRENCY)).size >= 5);
  assert.ok(a.every((t) => t.CURRENCY in CURRENCY_RATES && t.AMOUNT > 0));
  const times = a.map((t) => Date.parse(t.TIMESTAMP));
  assert.ok(times.every((t) => t <= NOW && t >= NOW - 3 * 86_400_000));
  assert.ok(Math.max(...times) - Math.min(...times) > 2 * 86_400_000);
});

Deno.test("runProducer: the same seed gives the same records on Kafka, keyed by USER_ID, plus rates", async () => {
  const config = await testConfig();
  const kafka = testKafka();
  try {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const topics = { raw: uniqueName("raw"), rates: uniqueName("rates") };
      const result = await runProducer({
        config,
        kafka,
        log: silentLogger,
        count: 500,
        seed: 42,
        now: NOW,
        topics,
      });
      assert.deepEqual(result, { sent: 500, rates: 8, seed: 42 });
      const raw = await readTopic(kafka, topics.raw);
      const rates = await readTopic(kafka, topics.rates);
      runs.push({
        raw: raw.map((r) => `${r.key} ${r.value}`).sort(),
        rates: rates.map((r) => `${r.key} ${r.value}`).sort(),
      });
      for (const r of raw) assert.equal(r.key, JSON.parse(r.value!).USER_ID);
    }
    assert.equal(runs[0].raw.length, 500);
    assert.deepEqual(runs[0], runs[1]);
    assert.ok(runs[0].rates.includes('USD {"CURRENCY":"USD","RATE_TO_USD":1}'));
  } finally {
    await kafka.close();
  }
});

Deno.test("produce command: sends --count transactions and says so", async () => {
  const config = await testConfig();
  const rawTopic = uniqueName("raw_cli");
  const result = await runMain(["produce", "--count", "120", "--seed", "3", "--users", "20"], {
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    RAW_TOPIC: rawTopic,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^sent 120 transactions to RAW_CLI_\w+ and 8 currency rates \(seed 3\)$/m,
  );
  const kafka = testKafka();
  try {
    const raw = await readTopic(kafka, rawTopic);
    assert.equal(raw.length, 120);
    assert.ok(raw.every((r) => Number(r.key!.slice(1)) <= 20));
  } finally {
    await kafka.close();
  }
  const bad = await runMain(["produce", "--count", "x"], { RAW_TOPIC: rawTopic });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--count must be a number/);
});
