import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { FEEDS } from "../../src/config/settings.ts";
import { quoteIdent } from "../../src/warehouse/db.ts";
import type { Feed } from "../../src/config/feeds.ts";
import { ensureFeedSchema } from "../../src/warehouse/loader.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";
import { testConfig } from "../helpers/env.ts";
import { load, withDb } from "./lake.ts";

/** The schema step of a load, on its own connection to the config's SQLite warehouse. */
async function ensureTables(path: string, feeds: readonly Feed[]): Promise<void> {
  const w = openSqliteWarehouse(path);
  try {
    await ensureFeedSchema(w, feeds);
  } finally {
    await w.close();
  }
}

/** The feeds of DESIGN.md's table: name → [primary key, foreign keys]. */
const DESIGN: Record<string, [string[], [string, string][]]> = {
  TRANSACTIONS_SECURE: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_USD: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_BLACKLISTED: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_COMPLETED: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_FAILED: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_PENDING: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_PROCESSING: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  TRANSACTIONS_CANCELLED: [["TRANSACTION_ID"], [["USER_ID_HASHED", "USERS"]]],
  USER_SPENDING_BY_TYPE: [["USER_ID_HASHED", "TRANSACTION_TYPE"], [["USER_ID_HASHED", "USERS"]]],
  SPEND_LAST_FIVE_MIN_BY_TYPE: [["TRANSACTION_TYPE"], []],
  USERS: [["USER_ID_HASHED"], []],
  CURRENCY_RATES: [["CURRENCY"], []],
};

Deno.test("schema: every DESIGN.md feed has its table, typed columns, keys and lineage", async () => {
  const config = await testConfig();
  await ensureTables(config.warehousePath, config.feeds);
  withDb(config, (db) => {
    for (const [name, [primaryKey, foreignKeys]] of Object.entries(DESIGN)) {
      const feed = config.feeds.find((f) => f.name === name);
      assert(feed, `feed ${name} is declared`);
      const info = db.prepare(`PRAGMA table_info(${quoteIdent(name)})`).all();
      const typeOf = new Map(info.map((c) => [String(c.name), String(c.type)]));
      for (const [column, type] of Object.entries(feed.columns)) {
        assert.deepEqual(typeOf.get(column), type, `${name}.${column}`);
      }
      const pk = info.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk))
        .map((c) => String(c.name));
      assert.deepEqual(pk, primaryKey, `${name} primary key`);
      assert.deepEqual(typeOf.get("_SOURCE_FILE"), "TEXT");
      assert.deepEqual(typeOf.get("_SOURCE_LINE"), "INTEGER");
      assert.deepEqual(typeOf.get("_LOADED_AT"), "TEXT");
      assert.deepEqual(typeOf.has("_INFERRED"), name === "USERS", `${name} _INFERRED`);
      const fks = db.prepare(`PRAGMA foreign_key_list(${quoteIdent(name)})`).all()
        .map((fk) => [String(fk.from), String(fk.table), String(fk.to)]);
      assert.deepEqual(fks, foreignKeys.map(([from, table]) => [from, table, "USER_ID_HASHED"]));
    }
    const usersInferred = db.prepare("PRAGMA table_info(USERS)").all()
      .find((c) => c.name === "_INFERRED")!;
    assert.deepEqual([usersInferred.type, usersInferred.notnull, usersInferred.dflt_value], [
      "INTEGER",
      1,
      "0",
    ]);
    assert.deepEqual(db.prepare("PRAGMA foreign_keys").get()!.foreign_keys, 1);
  });
});

Deno.test("schema: ensureFeedSchema twice changes nothing; a load creates the tables too", async () => {
  const config = await testConfig();
  await load(config);
  const schema = () =>
    withDb(config, (db) => db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").all());
  const before = schema();
  await ensureTables(config.warehousePath, config.feeds);
  assert.deepEqual(schema(), before);
  assert(before.some((t) => t.name === "_LOADER_FILES"));
  assert(before.some((t) => t.name === "TRANSACTIONS_USD"));
});

Deno.test("schema: a feed added by declaration gets its table; a declared column is added", async () => {
  const base = await testConfig();
  const env = new Map([["WAREHOUSE_PATH", base.warehousePath], [
    "DATA_LAKE_DIR",
    base.dataLakeDir,
  ]]);
  const orders = {
    name: "ORDERS",
    kind: "stream" as const,
    primaryKey: ["ORDER_ID"],
    foreignKeys: [{ column: "USER_ID_HASHED", references: "USERS" }],
    columns: { ORDER_ID: "TEXT" as const, TOTAL: "REAL" as const },
  };
  const configWith = (columns: Record<string, "TEXT" | "REAL">) =>
    loadConfig({ get: (n) => env.get(n) }, {
      baseFeeds: [...FEEDS, { ...orders, columns: { ...orders.columns, ...columns } }],
    });
  await ensureTables(base.warehousePath, configWith({}).feeds);
  await ensureTables(base.warehousePath, configWith({ NOTE: "TEXT" }).feeds);
  withDb(base, (db) => {
    const columns = db.prepare("PRAGMA table_info(ORDERS)").all().map((c) => `${c.name} ${c.type}`);
    assert.ok(columns.includes("TOTAL REAL"));
    assert.ok(columns.includes("NOTE TEXT"), "the newly declared column was added");
    assert.ok(columns.includes("USER_ID_HASHED TEXT"), "an undeclared foreign key column is TEXT");
    assert.equal(db.prepare("PRAGMA foreign_key_list(ORDERS)").all().length, 1);
  });
});
