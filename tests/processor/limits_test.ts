/**
 * The processor's limits, against the real broker on topics of their own: records too large for
 * one produce call (issue 10 item 5), totals that would overflow (item 6), and late events past
 * the window grace period (issue 9 item 8). Every raw record is accounted for: in the derived
 * feeds or in quarantine with a reason, and the partition moves on.
 */
import assert from "node:assert/strict";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { silentLogger } from "../../src/core/log.ts";
import { MAX_RECORD_BYTES } from "../../src/kafka/limits.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { BROKERS, testConfig, testKafka } from "../helpers/env.ts";
import { isolatedTopics } from "./fixtures.ts";
import { latestByKey, readTopic } from "./kafka_helpers.ts";

const RATES = [{ CURRENCY: "USD", RATE_TO_USD: 1 }, { CURRENCY: "EUR", RATE_TO_USD: 1.1 }];

function raw(id: string, amount: number, extra: Record<string, unknown> = {}) {
  return {
    TRANSACTION_ID: id,
    USER_ID: "U00777",
    USER_NAME: "Lea Big",
    EMAIL: "lea@example.com",
    TRANSACTION_TYPE: "purchase",
    AMOUNT: amount,
    CURRENCY: "USD",
    STATUS: "completed",
    CITY: "Lyon",
    COUNTRY: "France",
    IP_ADDRESS: "10.1.2.3",
    STREET: "3 Rue Longue",
    TIMESTAMP: "2026-03-01T10:00:00Z",
    ...extra,
  };
}

/** Raw records produced straight with the library (one record per call: each fits the broker). */
async function produceRaw(topics: ProcessorTopics, values: { key: string; value: string }[]) {
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: topics.raw, partitions: 1 }, { topic: topics.rates }]);
    const producer = await kafka.producer();
    await producer.send(RATES.map((r) => ({
      topic: topics.rates,
      key: r.CURRENCY,
      value: JSON.stringify(r),
    })));
    await producer.close();
  } finally {
    await kafka.close();
  }
  const producer = new Producer({
    clientId: "limits-test",
    bootstrapBrokers: BROKERS.split(","),
    serializers: stringSerializers,
  });
  try {
    for (const v of values) {
      await producer.send({ messages: [{ topic: topics.raw, key: v.key, value: v.value }] });
    }
  } finally {
    await producer.close();
  }
}

async function runOnce(topics: ProcessorTopics) {
  const config = await testConfig();
  const kafka = testKafka();
  try {
    return await startProcessor({ config, kafka, log: silentLogger, once: true, topics }).done;
  } finally {
    await kafka.close();
  }
}

async function secureIds(topics: ProcessorTopics): Promise<string[]> {
  const kafka = testKafka();
  try {
    const records = await readTopic(kafka, topics.secure);
    return records.map((r) => JSON.parse(r.value!).TRANSACTION_ID);
  } finally {
    await kafka.close();
  }
}

async function quarantined(topics: ProcessorTopics) {
  const kafka = testKafka();
  try {
    return await readTopic(kafka, topics.rejected);
  } finally {
    await kafka.close();
  }
}

Deno.test("processor: two 600 KB records with one key pass, one too large for Kafka is quarantined; the good ones around them arrive", async () => {
  const topics = isolatedTopics();
  const big = (id: string, size: number) =>
    JSON.stringify(raw(id, 5, { STREET: `1 ${"x".repeat(size)}` }));
  const values = [
    { key: "U00777", value: JSON.stringify(raw("TXN-00000001", 10)) },
    { key: "U00777", value: big("TXN-00000002", 600_000) },
    { key: "U00777", value: big("TXN-00000003", 600_000) },
    // Fits the raw topic, but its derived records cannot be produced: quarantined.
    { key: "U00777", value: big("TXN-00000004", MAX_RECORD_BYTES + 1000) },
    { key: "U00777", value: JSON.stringify(raw("TXN-00000005", 20)) },
  ];
  await produceRaw(topics, values);

  const stats = await runOnce(topics);
  assert.equal(stats.recordsIn, 5);
  const ids = await secureIds(topics);
  const rejected = await quarantined(topics);
  // Every record once: derived or quarantined with a reason.
  for (const id of ["TXN-00000001", "TXN-00000005"]) assert.ok(ids.includes(id), id);
  for (const id of ["TXN-00000002", "TXN-00000003"]) {
    const inSecure = ids.filter((x) => x === id).length;
    const inQuarantine = rejected.filter((r) => r.value?.includes(id)).length;
    assert.equal(inSecure + inQuarantine, 1, id);
  }
  assert.ok(!ids.includes("TXN-00000004"));
  const tooBig = rejected.find((r) => r.headers.source_offset === "3");
  assert.ok(tooBig, "the oversized record is quarantined");
  assert.match(tooBig.headers.reason, /bytes, over the \d+-byte limit/);
  // Too large to copy into the quarantine topic: its position says where its bytes are.
  assert.equal(tooBig.value, null);
  assert.match(tooBig.headers.value_omitted, /^\d+ bytes$/);
  assert.equal(tooBig.headers.source_topic, topics.raw);
  assert.equal(stats.rejected, rejected.length);
});

Deno.test("processor: an amount that would overflow a total is quarantined; totals stay finite and unchanged", async () => {
  const topics = isolatedTopics();
  const values = [
    raw("TXN-00000011", 10),
    raw("TXN-00000012", 1e303),
    // Nine of the largest amount accepted (1e9): 9 billion, just inside the exact range...
    ...Array.from({ length: 9 }, (_, i) => raw(`TXN-0000010${i}`, 1e9)),
    raw("TXN-00000014", 1e9), // ...and a tenth: past the exact range of the user's total
    raw("TXN-00000015", 5),
  ].map((v) => ({ key: v.USER_ID, value: JSON.stringify(v) }));
  await produceRaw(topics, values);

  const stats = await runOnce(topics);
  assert.equal(stats.recordsIn, 13);
  const ids = await secureIds(topics);
  const nine = Array.from({ length: 9 }, (_, i) => `TXN-0000010${i}`);
  assert.deepEqual(ids.sort(), [...nine, "TXN-00000011", "TXN-00000015"].sort());
  const rejected = await quarantined(topics);
  assert.deepEqual(rejected.map((r) => r.headers.source_offset).sort(), ["1", "11"]);
  for (const r of rejected) assert.ok(r.headers.reason.length > 0);

  const kafka = testKafka();
  try {
    const spending = [...latestByKey(await readTopic(kafka, topics.userSpending)).values()];
    const windows = [...latestByKey(await readTopic(kafka, topics.windows)).values()];
    assert.equal(spending.length, 1);
    assert.equal(spending[0].TOTAL_AMOUNT_USD, 9e9 + 15);
    assert.equal(spending[0].TRANSACTION_COUNT, 11);
    assert.equal(windows.length, 1);
    assert.equal(windows[0].TOTAL_AMOUNT_USD, 9e9 + 15);
    for (const row of [...spending, ...windows]) {
      assert.ok(Number.isFinite(row.TOTAL_AMOUNT_USD), JSON.stringify(row));
    }
  } finally {
    await kafka.close();
  }
});

Deno.test("processor: an event older than the window grace period reaches the streams, not the windows table", async () => {
  const topics = isolatedTopics();
  const values = [
    raw("TXN-00000021", 10, { TIMESTAMP: "2026-03-20T10:00:00Z" }),
    // Eight days older than the newest event: past the 7-day grace.
    raw("TXN-00000022", 7, { TIMESTAMP: "2026-03-12T09:00:00Z" }),
    raw("TXN-00000023", 1, { TIMESTAMP: "2026-03-20T10:01:00Z" }),
  ].map((v) => ({ key: v.USER_ID, value: JSON.stringify(v) }));
  await produceRaw(topics, values);

  const stats = await runOnce(topics);
  assert.equal(stats.lateEvents, 1);
  assert.equal(stats.rejected, 0);
  assert.deepEqual((await secureIds(topics)).sort(), [
    "TXN-00000021",
    "TXN-00000022",
    "TXN-00000023",
  ]);
  const kafka = testKafka();
  try {
    const updates = await readTopic(kafka, topics.windows);
    const starts = updates.map((r) => JSON.parse(r.value!).WINDOW_START);
    assert.ok(!starts.includes("2026-03-12T09:00:00.000Z"), starts.join());
    const spending = [...latestByKey(await readTopic(kafka, topics.userSpending)).values()];
    // The user's total counts it: only its stale window is left out.
    assert.equal(spending[0].TOTAL_AMOUNT_USD, 18);
  } finally {
    await kafka.close();
  }
});
