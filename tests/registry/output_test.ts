/**
 * Avro outputs (OUTPUT_FORMAT=avro): values encoded by AvroOutputEncoder with the schema it
 * registers are read back by Confluent's own AvroDeserializer (Python) with the values the JSON
 * output carries, and by our lake as an Avro feed with the same lines.
 */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { FEEDS } from "../../src/config/settings.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { SchemaRegistryClient } from "../../src/registry/client.ts";
import { AvroOutputEncoder } from "../../src/registry/encode.ts";
import { consumeOnce, readLines } from "../lake/_fixtures.ts";
import { testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { confluentPython, REGISTRY_URL, registryTest } from "./_registry.ts";

const USD = FEEDS.find((f) => f.name === "TRANSACTIONS_USD")!;
const SECURE = { name: USD.name, columns: USD.columns! };

const VALUES = [
  {
    TRANSACTION_ID: "T1",
    USER_ID_HASHED: "a".repeat(64),
    USER_NAME_HASHED: "b".repeat(64),
    EMAIL_HASHED: "c".repeat(64),
    TRANSACTION_TYPE: "purchase",
    AMOUNT: 12.34,
    CURRENCY: "EUR",
    STATUS: "completed",
    CITY: "Paris",
    COUNTRY: "France",
    IP_MASKED: "192.168.1.xxx",
    STREET_MASKED: "*** Rue de la Paix",
    TIMESTAMP: "2024-06-01T12:00:00.000Z",
    AMOUNT_USD: 13.574,
    TARGET_CURRENCY: "USD",
  },
  {
    TRANSACTION_ID: "T2",
    USER_ID_HASHED: "d".repeat(64),
    USER_NAME_HASHED: "e".repeat(64),
    EMAIL_HASHED: "f".repeat(64),
    TRANSACTION_TYPE: "refund",
    AMOUNT: 100,
    CURRENCY: "USD",
    STATUS: "failed",
    CITY: "Zürich",
    COUNTRY: "Switzerland",
    IP_MASKED: null,
    STREET_MASKED: "",
    TIMESTAMP: "2024-06-02T00:00:00Z",
    AMOUNT_USD: 100,
    TARGET_CURRENCY: "USD",
  },
];

registryTest(
  "Avro outputs are read back by Confluent's AvroDeserializer and by the lake unchanged",
  async () => {
    const topic = uniqueName("REG_OUT");
    const config = await testConfig({
      env: { SCHEMA_REGISTRY_URL: REGISTRY_URL },
      feeds: [{ ...USD, name: topic, foreignKeys: [], format: "avro" }],
    });
    const client = new SchemaRegistryClient({ url: REGISTRY_URL });
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic, partitions: 1 }]);
      const encoder = new AvroOutputEncoder(client);
      const encoded = await Promise.all(VALUES.map((v) => encoder.encode(topic, SECURE, v)));
      const produced = await confluentPython({
        action: "raw",
        topic,
        values: encoded.map((bytes) => btoa(String.fromCharCode(...bytes))),
      });
      assert.equal(produced[0].produced, 2, JSON.stringify(produced));

      const read = await confluentPython({
        action: "read",
        registry: REGISTRY_URL,
        topic,
        group: uniqueName("py").toLowerCase(),
        count: 2,
      });
      assert.deepEqual(read, VALUES);

      const stats = await consumeOnce(config, kafka);
      assert.deepEqual([stats[topic].written, stats[topic].rejected], [2, 0]);
      const feed = findFeed(config, topic)!;
      const lines = [
        ...await readLines(partitionPath(config.dataLakeDir, feed, "2024-06-01")),
        ...await readLines(partitionPath(config.dataLakeDir, feed, "2024-06-02")),
      ].map((l) => JSON.parse(l));
      assert.deepEqual(lines, VALUES);
      // A field the feed does not declare cannot be written silently as something else.
      await assert.rejects(
        () => encoder.encode(topic, SECURE, { ...VALUES[0], EXTRA: 1 }),
        /field EXTRA is not a declared column/,
      );
    } finally {
      client.close();
      await kafka.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
