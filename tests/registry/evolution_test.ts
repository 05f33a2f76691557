/**
 * Schema evolution through the real registry, into the lake and both warehouse engines: column
 * types come from the schema (not the first value: a first value of 3 in a `double` field is
 * REAL, a first null in an optional string still makes a TEXT column), a new optional field in a
 * compatible version adds a column, and an incompatible change is refused by the registry (with
 * the subject's BACKWARD rule), so no record of it reaches the topic.
 */
import assert from "node:assert/strict";
import { runLoad } from "../../src/warehouse/load/run.ts";
import { silentLogger } from "../../src/core/log.ts";
import { consumeOnce } from "../lake/_fixtures.ts";
import { openEngineWarehouse } from "../helpers/engines.ts";
import {
  confluentPython,
  REGISTRY_URL,
  registryEngineTest,
  registryFeed,
  setCompatibility,
} from "./_registry.ts";

const V1 = {
  type: "record",
  name: "Reading",
  fields: [
    { name: "ID", type: "string" },
    { name: "TS", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "VALUE", type: "double" },
    { name: "NOTE", type: ["null", "string"], default: null },
  ],
};
/** V1 and a new optional field: BACKWARD compatible. */
const V2 = {
  ...V1,
  fields: [...V1.fields, { name: "UNIT", type: ["null", "string"], default: null }],
};
/** A new field without a default: readers of V3 cannot read V2 data. */
const V3_INCOMPATIBLE = {
  ...V1,
  fields: [...V2.fields, { name: "SENSOR", type: "string" }],
};

registryEngineTest(
  "A compatible new schema version adds a column; an incompatible one is refused",
  async (_t, engine) => {
    const { feed, config, kafka, close } = await registryFeed("REG_EVOLVE", "avro", {
      timeField: "TS",
      env: engine.env,
    });
    const warehouse = await openEngineWarehouse(config);
    try {
      await setCompatibility(REGISTRY_URL, `${feed}-value`, "BACKWARD");
      const ts = { $datetime: "2024-05-01T08:00:00Z" };
      const v1 = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify(V1),
        records: [{ ID: "r1", TS: ts, VALUE: 3, NOTE: null }],
      });
      assert.equal(v1[0].produced, 1, JSON.stringify(v1));
      await consumeOnce(config, kafka);
      await runLoad({ config, warehouse, log: silentLogger });
      assert.deepEqual(await columnTypes(warehouse, engine.name, feed), {
        ID: "TEXT",
        TS: "TEXT",
        VALUE: "REAL",
        NOTE: "TEXT",
      });

      const v2 = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify(V2),
        records: [{ ID: "r2", TS: ts, VALUE: 2.5, NOTE: "n", UNIT: "kPa" }],
      });
      assert.equal(v2[0].produced, 1, JSON.stringify(v2));
      assert.notEqual(v2[0].schemaId, v1[0].schemaId);

      const v3 = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify(V3_INCOMPATIBLE),
        records: [{ ID: "r3", TS: ts, VALUE: 1, NOTE: null, UNIT: null, SENSOR: "s" }],
      });
      assert.ok(
        typeof v3[0].error === "string" && /409|incompatib/i.test(v3[0].error as string),
        `the registry should refuse the incompatible version: ${JSON.stringify(v3)}`,
      );

      const stats = await consumeOnce(config, kafka);
      assert.deepEqual([stats[feed].written, stats[feed].rejected], [1, 0]);
      await runLoad({ config, warehouse, log: silentLogger });
      assert.deepEqual(await columnTypes(warehouse, engine.name, feed), {
        ID: "TEXT",
        TS: "TEXT",
        VALUE: "REAL",
        NOTE: "TEXT",
        UNIT: "TEXT",
      });
      const rows = await warehouse.all(
        `SELECT "ID", "VALUE", "NOTE", "UNIT" FROM "${feed}" ORDER BY "ID"`,
      );
      assert.deepEqual(rows.map((r) => ({ ...r, VALUE: Number(r.VALUE) })), [
        { ID: "r1", VALUE: 3, NOTE: null, UNIT: null },
        { ID: "r2", VALUE: 2.5, NOTE: "n", UNIT: "kPa" },
      ]);
    } finally {
      await warehouse.close();
      await close();
    }
  },
);

/** Data column → TEXT / INTEGER / REAL, whatever the engine calls them. */
async function columnTypes(
  warehouse: Awaited<ReturnType<typeof openEngineWarehouse>>,
  engine: string,
  table: string,
): Promise<Record<string, string>> {
  const rows = engine === "sqlite"
    ? await warehouse.all(`SELECT name AS n, type AS t FROM pragma_table_info('${table}')`)
    : await warehouse.all(
      `SELECT COLUMN_NAME AS n, DATA_TYPE AS t FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [table],
    );
  const out: Record<string, string> = {};
  for (const row of rows) {
    const name = String(row.n);
    if (name.startsWith("_")) continue;
    const type = String(row.t).toUpperCase();
    out[name] = /INT/.test(type)
      ? "INTEGER"
      : /DOUBLE|REAL|FLOAT|DECIMAL/.test(type)
      ? "REAL"
      : "TEXT";
  }
  return out;
}
