/**
 * JSON Schema feeds: records written by Confluent's Python JSONSerializer (which checks them
 * against the schema before writing) reach the lake; the warehouse columns come from the
 * schema's properties, so an integer property whose first value is absent is still INTEGER.
 */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { withSchemaColumns } from "../../src/registry/columns.ts";
import { consumeOnce, readLines } from "../lake/_fixtures.ts";
import { confluentPython, REGISTRY_URL, registryFeed, registryTest } from "./_registry.ts";

const SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Order",
  type: "object",
  properties: {
    ID: { type: "string" },
    QTY: { type: ["integer", "null"] },
    PRICE: { type: "number" },
    GIFT: { type: "boolean" },
    LINES: { type: "array", items: { type: "string" } },
  },
  required: ["ID", "PRICE"],
};

registryTest(
  "JSON Schema records from Confluent's serializer reach the lake; columns from the schema",
  async () => {
    const { feed, config, kafka, close } = await registryFeed("REG_JSONSCHEMA", "json-schema");
    try {
      const out = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        format: "json-schema",
        schema: JSON.stringify(SCHEMA),
        records: [
          { ID: "o1", PRICE: 2, GIFT: true, LINES: ["x", "y"] },
          { ID: "o2", QTY: 3, PRICE: 9.5 },
        ],
      });
      assert.equal(out[0].produced, 2, JSON.stringify(out));
      const stats = await consumeOnce(config, kafka);
      assert.deepEqual([stats[feed].written, stats[feed].rejected], [2, 0]);
      const f = findFeed(config, feed)!;
      const day = new Date().toISOString().slice(0, 10);
      const lines = (await readLines(partitionPath(config.dataLakeDir, f, day)))
        .map((l) => JSON.parse(l));
      assert.deepEqual(lines, [
        { ID: "o1", QTY: null, PRICE: 2, GIFT: true, LINES: '["x","y"]' },
        { ID: "o2", QTY: 3, PRICE: 9.5, GIFT: null, LINES: null },
      ]);
      const [typed] = await withSchemaColumns(config.feeds, config.schemaRegistry, silentLogger);
      assert.deepEqual(typed.columns, {
        ID: "TEXT",
        QTY: "INTEGER",
        PRICE: "REAL",
        GIFT: "INTEGER",
        LINES: "TEXT",
      });
    } finally {
      await close();
    }
  },
);
