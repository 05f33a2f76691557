/**
 * The whole pipeline with an Avro raw topic (RAW_FORMAT=avro): raw transactions written by
 * Confluent's Python AvroSerializer → processor → lake → warehouse, on SQLite and MariaDB. The
 * oracle is the same transactions as JSON through the same pipeline: every warehouse row of the
 * USD stream and of the per-user spending table is the same, and the USD amounts are those worked
 * out by hand. An Avro record that does not decode goes to the processor's quarantine topic.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { FEEDS } from "../../src/config/settings.ts";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { runLoad } from "../../src/warehouse/load/run.ts";
import { consumeOnce, produce } from "../lake/_fixtures.ts";
import { openEngineWarehouse } from "../helpers/engines.ts";
import { testConfig, testKafka } from "../helpers/env.ts";
import { isolatedTopics } from "../processor/fixtures.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { confluentPython, REGISTRY_URL, registryEngineTest } from "./_registry.ts";

const RAW_SCHEMA = {
  type: "record",
  name: "Transaction",
  namespace: "test.raw",
  fields: [
    { name: "TRANSACTION_ID", type: "string" },
    { name: "USER_ID", type: "string" },
    { name: "USER_NAME", type: "string" },
    { name: "EMAIL", type: "string" },
    { name: "CITY", type: "string" },
    { name: "COUNTRY", type: "string" },
    { name: "IP_ADDRESS", type: "string" },
    { name: "STREET", type: "string" },
    { name: "TRANSACTION_TYPE", type: ["null", "string"] },
    { name: "AMOUNT", type: "double" },
    { name: "CURRENCY", type: "string" },
    { name: "STATUS", type: "string" },
    { name: "TIMESTAMP", type: { type: "long", logicalType: "timestamp-millis" } },
  ],
};

const RATES = [
  { CURRENCY: "USD", RATE_TO_USD: 1 },
  { CURRENCY: "EUR", RATE_TO_USD: 1.1 },
  { CURRENCY: "JPY", RATE_TO_USD: 0.0067 },
];

function person(n: number) {
  return {
    USER_ID: `U0010${n}`,
    USER_NAME: `Person ${n}`,
    EMAIL: `person${n}@example.com`,
    CITY: "Lyon",
    COUNTRY: "France",
    IP_ADDRESS: `10.0.0.${n}`,
    STREET: `${n} Rue Neuve`,
  };
}

/** id, person, type, amount, currency, status, time (millisecond precision, as Avro keeps it). */
const ROWS: [string, number, string | null, number, string, string, string, number][] = [
  ["TXN-00000101", 1, "purchase", 100, "USD", "completed", "2026-01-05T12:00:00.000Z", 100],
  ["TXN-00000102", 1, "purchase", 50, "EUR", "pending", "2026-01-05T12:01:00.500Z", 55],
  ["TXN-00000103", 2, "transfer", 1000, "JPY", "failed", "2026-01-05T12:02:00.000Z", 6.7],
  ["TXN-00000104", 2, null, 19.99, "EUR", "completed", "2026-01-05T12:03:00.999Z", 21.989],
  ["TXN-00000105", 3, "refund", 0.01, "USD", "cancelled", "2026-01-05T12:04:00.000Z", 0.01],
];

const TRANSACTIONS = ROWS.map(([id, who, type, amount, currency, status, time]) => ({
  TRANSACTION_ID: id,
  ...person(who),
  TRANSACTION_TYPE: type,
  AMOUNT: amount,
  CURRENCY: currency,
  STATUS: status,
  TIMESTAMP: time,
}));

const declared = (name: string) => FEEDS.find((f) => f.name === name)!;

/** Lake feeds for a run's USD stream and spending table (named as its topics). */
function feedsOf(topics: ProcessorTopics): FeedDeclaration[] {
  return [
    { ...declared("TRANSACTIONS_USD"), name: topics.usd, foreignKeys: [] },
    { ...declared("USER_SPENDING_BY_TYPE"), name: topics.userSpending, foreignKeys: [] },
  ];
}

registryEngineTest(
  "raw Avro → processor → lake → warehouse gives the rows the JSON pipeline gives",
  async (_t, engine) => {
    const json = isolatedTopics();
    const avro = isolatedTopics();
    const config = await testConfig({
      env: { SCHEMA_REGISTRY_URL: REGISTRY_URL, ...engine.env },
      feeds: [...feedsOf(json), ...feedsOf(avro)],
    });
    // The processor runs with the product's feeds; the lake keeps only the two runs' outputs.
    const processing = await testConfig({ env: { SCHEMA_REGISTRY_URL: REGISTRY_URL } });
    const kafka = testKafka();
    const warehouse = await openEngineWarehouse(config);
    try {
      for (const t of [json, avro]) {
        await kafka.ensureTopics([{ topic: t.raw, partitions: 1 }, { topic: t.rates }]);
        await produce(
          kafka,
          RATES.map((r) => ({ topic: t.rates, key: r.CURRENCY, value: JSON.stringify(r) })),
        );
      }
      await produce(
        kafka,
        TRANSACTIONS.map((tx) => ({ topic: json.raw, key: tx.USER_ID, value: JSON.stringify(tx) })),
      );
      const sent = await confluentPython({
        registry: REGISTRY_URL,
        topic: avro.raw,
        key: "USER_ID",
        schema: JSON.stringify(RAW_SCHEMA),
        records: TRANSACTIONS.map((tx) => ({ ...tx, TIMESTAMP: { $datetime: tx.TIMESTAMP } })),
      });
      assert.equal(sent[0].produced, TRANSACTIONS.length, JSON.stringify(sent));
      // One record that is not Avro at all: quarantined by the processor, the rest goes on.
      await confluentPython({ action: "raw", topic: avro.raw, values: [btoa("not avro")] });

      const jsonStats = await startProcessor({
        config: processing,
        kafka,
        log: silentLogger,
        once: true,
        topics: json,
      }).done;
      const avroStats = await startProcessor({
        config: { ...processing, rawFormat: "avro" },
        kafka,
        log: silentLogger,
        once: true,
        topics: avro,
      }).done;
      assert.deepEqual([jsonStats.recordsIn, jsonStats.rejected], [5, 0]);
      assert.deepEqual([avroStats.recordsIn, avroStats.rejected], [6, 1]);
      const quarantined = await readTopic(kafka, avro.rejected);
      assert.equal(quarantined.length, 1);
      assert.match(quarantined[0].headers.reason, /magic byte/);
      // Binary values are kept, as base64 text.
      assert.equal(quarantined[0].headers.value_encoding, "base64");
      assert.equal(atob(quarantined[0].value!), "not avro");

      await consumeOnce(config, kafka);
      const report = await runLoad({ config, warehouse, log: silentLogger });
      assert.equal(report.totals.rejected, 0);

      const rows = async (table: string, order: string) =>
        (await warehouse.all(`SELECT * FROM "${table}" ORDER BY ${order}`)).map((row) =>
          Object.fromEntries(
            Object.entries(row).filter(([k]) => !k.startsWith("_")).map((
              [k, v],
            ) => [k, typeof v === "bigint" ? Number(v) : v]),
          )
        );
      const usdJson = await rows(json.usd, `"TRANSACTION_ID"`);
      const usdAvro = await rows(avro.usd, `"TRANSACTION_ID"`);
      assert.equal(usdAvro.length, ROWS.length);
      assert.deepEqual(usdAvro, usdJson);
      assert.deepEqual(
        usdAvro.map((r) => [r.TRANSACTION_ID, Number(r.AMOUNT_USD), r.TIMESTAMP]),
        ROWS.map((r) => [r[0], r[7], r[6]]),
      );
      const order = `"USER_ID_HASHED", "TRANSACTION_TYPE"`;
      const spendingAvro = await rows(avro.userSpending, order);
      assert.ok(spendingAvro.length >= 3);
      assert.deepEqual(spendingAvro, await rows(json.userSpending, order));
    } finally {
      await warehouse.close();
      await kafka.close();
      await Deno.remove(config.root, { recursive: true });
      await Deno.remove(processing.root, { recursive: true });
    }
  },
);
