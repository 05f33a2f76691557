/**
 * Byte values (OUTPUT_FORMAT=avro's framed Avro) through the Kafka client: sized by their length
 * for the produce-call split, sent as they are (subarrays too), split into several calls when a
 * transaction's bytes pass the broker's limit. And the processor's output hook: schemas
 * registered once per topic, only output topics encoded, tombstones kept.
 */
import assert from "node:assert/strict";
import { FEEDS } from "../../src/config/settings.ts";
import { DataError } from "../../src/core/errors.ts";
import type { OutgoingRecord } from "../../src/kafka/client.ts";
import {
  MAX_CALL_TOPIC_BYTES,
  RECORD_OVERHEAD,
  recordBytes,
  splitForProduce,
} from "../../src/kafka/limits.ts";
import { SchemaRegistryClient } from "../../src/registry/client.ts";
import { OutputEncoding } from "../../src/registry/encode.ts";
import { unframe } from "../../src/registry/wire.ts";
import { testKafka, uniqueName } from "../helpers/env.ts";
import { REGISTRY_URL, registryTest } from "./_registry.ts";

Deno.test("byte values are sized by their length, text by its UTF-8 bytes", () => {
  const sizes: [OutgoingRecord["value"], number][] = [
    [new Uint8Array(1000), 1000],
    [new Uint8Array(10).subarray(3), 7],
    ["é€", 5],
    ["", 0],
    [null, 0],
  ];
  for (const [value, bytes] of sizes) {
    assert.equal(recordBytes({ topic: "t", key: "k", value }), RECORD_OVERHEAD + 1 + bytes);
  }
  const big = (n: number): OutgoingRecord => ({
    topic: "t",
    key: null,
    value: new Uint8Array(n),
  });
  const records = [big(400_000), big(400_000), big(400_000), big(10)];
  const calls = splitForProduce(records, (r) => r.topic, recordBytes);
  assert.deepEqual(calls.map((c) => c.length), [2, 2]);
  for (const call of calls) {
    assert.ok(call.reduce((n, r) => n + recordBytes(r), 0) <= MAX_CALL_TOPIC_BYTES);
  }
});

Deno.test({
  name: "byte values go to the broker as they are, split into calls under its limit",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueName("REG_BYTES");
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic, partitions: 1 }]);
      // Random bytes: compression cannot bring three of them under the broker's 1 MiB batch limit.
      const random = (n: number) => {
        const out = new Uint8Array(n);
        for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
        return out;
      };
      const whole = random(20);
      const values = [
        whole.subarray(5, 15), // a view with an offset: only its own bytes go
        random(600_000), // three of these pass one call's limit: several calls, one transaction
        random(600_000),
        random(600_000),
        new Uint8Array([0, 0, 0, 0, 1, 2]),
      ];
      const tx = await kafka.transactionalProducer(uniqueName("bytes-tx"));
      try {
        await tx.sendWithOffsets(
          [
            ...values.map((value, i) => ({ topic, key: `k${i}`, value })),
            { topic, key: "text", value: "plain text stays text" },
            { topic, key: "gone", value: null },
          ],
          { generation: { groupId: uniqueName("g"), memberId: "", generationId: -1 }, offsets: [] },
        );
      } finally {
        await tx.close();
      }
      const got: { key: string; value: Uint8Array | null }[] = [];
      const handle = await kafka.consume({
        groupId: uniqueName("read").toLowerCase(),
        topics: [topic],
        commit: false,
        readCommitted: true,
        stopWhenCaughtUp: true,
        maxBytesPerPartition: 4 * 1024 * 1024,
        onBatch: (batch) => {
          for (const r of batch.records) {
            got.push({
              key: new TextDecoder().decode(r.key!),
              value: r.value && new Uint8Array(r.value),
            });
          }
          return Promise.resolve();
        },
      });
      await handle.done;
      assert.deepEqual(got.map((r) => r.key), [...values.map((_, i) => `k${i}`), "text", "gone"]);
      values.forEach((value, i) => assert.deepEqual(got[i].value, Uint8Array.from(value)));
      assert.equal(new TextDecoder().decode(got[5].value!), "plain text stays text");
      assert.equal(got[6].value, null);
    } finally {
      await kafka.close();
    }
  },
});

const SECURE = FEEDS.find((f) => f.name === "TRANSACTIONS_SECURE")!;
const SPENDING = FEEDS.find((f) => f.name === "USER_SPENDING_BY_TYPE")!;

registryTest(
  "the output hook registers each topic once and encodes only output records",
  async () => {
    const client = new SchemaRegistryClient({ url: REGISTRY_URL });
    const [a, b, spending] = ["REG_A", "REG_B", "REG_SPEND"].map(uniqueName);
    const outputs = new Map([
      [a, { name: SECURE.name, columns: SECURE.columns! }],
      [b, { name: SECURE.name, columns: SECURE.columns! }],
      [spending, { name: SPENDING.name, columns: SPENDING.columns! }],
    ]);
    const calls: string[] = [];
    const wait = <T>(topic: string, call: () => Promise<T>) => {
      calls.push(topic);
      return call();
    };
    try {
      const encoding = await OutputEncoding.prepare(client, outputs, wait);
      // Preparing again (a restart) registers nothing new: the same ids, one version each.
      const again = await OutputEncoding.prepare(client, outputs, wait);
      assert.deepEqual(again.schemaIds(), encoding.schemaIds());
      assert.deepEqual(calls, [a, b, spending, a, b, spending]);
      for (const topic of [a, b, spending]) {
        assert.deepEqual(await client.versions(`${topic}-value`), [1]);
      }
      const ids = encoding.schemaIds();
      assert.notEqual(ids.get(a), ids.get(b));

      const secure = JSON.stringify({ TRANSACTION_ID: "T1", AMOUNT: 1.5, TRANSACTION_TYPE: null });
      const total = JSON.stringify({
        USER_ID_HASHED: "h",
        TRANSACTION_TYPE: "purchase",
        TOTAL_AMOUNT_USD: 12.5,
        TRANSACTION_COUNT: 2,
        LAST_TRANSACTION_AT: "2026-01-05T12:00:00.000Z",
      });
      const records: OutgoingRecord[] = [
        { topic: a, key: "u", value: secure },
        { topic: b, key: "u", value: secure },
        { topic: spending, key: "h|purchase", value: total },
        { topic: spending, key: "h|refund", value: null },
        { topic: "repartition", key: "purchase", value: total },
        { topic: "quarantine", key: null, value: "not json at all" },
      ];
      encoding.encode(records);
      const framed = records.slice(0, 3).map((r) => unframe(r.value as Uint8Array));
      assert.deepEqual(framed.map((f) => f.schemaId), [ids.get(a), ids.get(b), ids.get(spending)]);
      // The same value on two topics of the same columns: one payload, each topic's own id.
      assert.deepEqual(framed[0].payload, framed[1].payload);
      assert.deepEqual(records.slice(3).map((r) => r.value), [null, total, "not json at all"]);
      assert.deepEqual(records.map((r) => r.key), [
        "u",
        "u",
        "h|purchase",
        "h|refund",
        "purchase",
        null,
      ]);

      assert.throws(
        () => encoding.encode([{ topic: spending, key: "k", value: '{"EXTRA":1}' }]),
        (e) => e instanceof DataError && /field EXTRA is not a declared column/.test(e.message),
      );
    } finally {
      client.close();
    }
  },
);
