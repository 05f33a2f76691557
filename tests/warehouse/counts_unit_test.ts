import assert from "node:assert/strict";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { adjustRowCount, readRowCounts, recountRows } from "../../src/warehouse/loader.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";
import { testConfig } from "../helpers/env.ts";
import { count, load, tableOf, txn, user, withDb, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";

const numbered: FeedDeclaration = {
  name: "ORDERS_BY_NUMBER",
  kind: "stream",
  primaryKey: ["ORDER_NO"],
  columns: { ORDER_NO: "INTEGER", AMOUNT: "REAL" },
};

Deno.test("load: a feed keyed by one INTEGER column counts new rows as inserts (the rowid alias)", async () => {
  const config = await testConfig({ feeds: [numbered] });
  const feed = numbered.name;
  await writePartition(config, feed, "2026-11-20", [
    { ORDER_NO: 50, AMOUNT: 1 },
    { ORDER_NO: 30, AMOUNT: 2 }, // a smaller key than the largest rowid: still a new row
    { ORDER_NO: 50, AMOUNT: 3 }, // the same key again: an update
  ]);
  const first = tableOf(await load(config), feed);
  assert.deepEqual([first.inserted, first.updated], [2, 1]);

  await writePartition(config, feed, "2026-11-21", [
    { ORDER_NO: 10, AMOUNT: 4 },
    { ORDER_NO: 20, AMOUNT: 5 },
    { ORDER_NO: 30, AMOUNT: 6 },
  ]);
  const second = tableOf(await load(config), feed);
  assert.deepEqual([second.inserted, second.updated], [2, 1]);
  assert.equal(count(config, feed), 4);
});

/** The loader's counts next to a real COUNT(*) of every table it knows. */
async function countsMatch(config: Awaited<ReturnType<typeof testConfig>>): Promise<void> {
  const warehouse = openSqliteWarehouse(config.warehousePath);
  try {
    const kept = await readRowCounts(warehouse);
    assert.equal(kept.size, config.feeds.length, "one count per feed table");
    for (const feed of config.feeds) {
      assert.equal(kept.get(feed.name), count(config, feed.name), `row count of ${feed.name}`);
    }
  } finally {
    await warehouse.close();
  }
}

Deno.test("row counts: kept by the loader through inserts, placeholders, resets and snapshots", async () => {
  const config = await testConfig();
  const empty = openSqliteWarehouse(config.warehousePath);
  assert.deepEqual(await readRowCounts(empty), new Map(), "before any load: nothing, no error");
  await empty.close();

  await writePartition(config, "USERS", "2026-11-20", [user("a"), user("b"), user("c")]);
  const path = await writePartition(config, USD, "2026-11-20", [txn("b"), txn("x"), txn("y")]);
  await load(config, { batchRows: 2 });
  await countsMatch(config);
  assert.equal(count(config, "USERS"), 5, "x and y are placeholders");

  // A snapshot without c (deleted) and b (referenced: becomes a placeholder).
  await writePartition(config, "USERS", "2026-11-21", [user("a"), user("x")]);
  await writePartition(config, USD, "2026-11-20", [txn("b")]); // truncated: reset
  const report = await load(config, { batchRows: 2 });
  assert.equal(tableOf(report, "USERS").deleted, 1);
  assert.equal(tableOf(report, USD).deleted, 3);
  await countsMatch(config);
  await Deno.writeTextFile(path, JSON.stringify(txn("z")) + "\n", { append: true });
  await load(config);
  await countsMatch(config);
});

Deno.test("row counts: other deletes adjust them or recount; an older warehouse is counted once", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [txn("u1"), txn("u2"), txn("u3")]);
  await load(config);
  const warehouse = openSqliteWarehouse(config.warehousePath);
  try {
    await warehouse.transaction(async (tx) => {
      const { changes } = await tx.run(`DELETE FROM ${USD} WHERE USER_ID_HASHED = ?`, ["u1"]);
      await adjustRowCount(tx, USD, -changes);
    });
    assert.equal((await readRowCounts(warehouse)).get(USD), 2);
    await warehouse.run(`DELETE FROM ${USD}`);
    await recountRows(warehouse, [USD]);
    assert.equal((await readRowCounts(warehouse)).get(USD), 0);
    // A warehouse from before the counts existed: the next load counts each table once.
    await warehouse.run("DROP TABLE _LOADER_TABLES");
  } finally {
    await warehouse.close();
  }
  withDb(config, (db) => db.exec(`INSERT INTO USERS (USER_ID_HASHED) VALUES ('extra')`));
  await load(config);
  await countsMatch(config);
});
