import assert from "node:assert/strict";
import { ConflictError, ValidationError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import { forgetLakeFiles, runLoad } from "../../src/warehouse/loader.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";
import { acquireLoadLock } from "../../src/warehouse/lock.ts";
import { testConfig } from "../helpers/env.ts";
import { count, load, rows, tableOf, txn, user, withDb, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";

Deno.test("load: loading twice gives the same rows; the second load reads nothing", async () => {
  const config = await testConfig();
  const day1 = [txn("u1"), txn("u2"), txn("u1")];
  const day2 = [txn("u3"), txn("u1")];
  await writePartition(config, USD, "2026-11-20", day1);
  await writePartition(config, USD, "2026-11-21", day2);

  const first = tableOf(await load(config), USD);
  assert.deepEqual([first.files, first.inserted, first.updated, first.rejected], [2, 5, 0, 0]);
  assert.equal(first.inferred, 3, "u1, u2, u3 were inferred");
  const before = rows(config, USD);
  assert.equal(before.length, 5);
  assert.deepEqual(
    before.map((r) => [r._SOURCE_FILE, r._SOURCE_LINE]),
    [
      [`${USD}/2026-11-20/${USD}_2026-11-20.jsonl`, 1],
      [`${USD}/2026-11-20/${USD}_2026-11-20.jsonl`, 2],
      [`${USD}/2026-11-20/${USD}_2026-11-20.jsonl`, 3],
      [`${USD}/2026-11-21/${USD}_2026-11-21.jsonl`, 1],
      [`${USD}/2026-11-21/${USD}_2026-11-21.jsonl`, 2],
    ],
  );
  assert.equal(before[0].AMOUNT, 12.5);
  assert.equal(before[0].TRANSACTION_ID, day1[0].TRANSACTION_ID);

  const second = await load(config);
  assert.ok(second.tables.every((t) => t.files === 0 && t.inserted + t.updated === 0));
  assert.deepEqual(rows(config, USD), before, "nothing changed, not even _LOADED_AT");
});

Deno.test("load: appended lines are loaded exactly once; a partial last line waits", async () => {
  const config = await testConfig();
  const path = await writePartition(config, USD, "2026-11-20", [txn("u1"), txn("u1")]);
  await load(config);

  const more = [txn("u1"), txn("u2")];
  const half = JSON.stringify(txn("u2"));
  await Deno.writeTextFile(
    path,
    more.map((r) => JSON.stringify(r)).join("\n") + "\n" + half.slice(0, 20),
    { append: true },
  );
  const second = tableOf(await load(config), USD);
  assert.deepEqual([second.inserted, second.updated, second.rejected], [2, 0, 0]);
  assert.equal(count(config, USD), 4);

  const again = tableOf(await load(config), USD);
  assert.equal(again.files, 0, "a partial line alone is nothing new once seen");

  await Deno.writeTextFile(path, half.slice(20) + "\n", { append: true });
  const third = tableOf(await load(config), USD);
  assert.deepEqual([third.inserted, third.updated, third.rejected], [1, 0, 0]);
  const loaded = rows(config, USD, "TRANSACTION_ID, _SOURCE_LINE");
  assert.equal(loaded.length, 5);
  assert.deepEqual(loaded.map((r) => r._SOURCE_LINE), [1, 2, 3, 4, 5]);
  assert.equal(loaded[4].TRANSACTION_ID, JSON.parse(half).TRANSACTION_ID);
});

Deno.test("load: a duplicate key in the lake is an update, never a second row", async () => {
  const config = await testConfig();
  const a = txn("u1");
  await writePartition(config, USD, "2026-11-20", [a, { ...a, AMOUNT: 99 }]);
  const report = tableOf(await load(config), USD);
  assert.deepEqual([report.inserted, report.updated], [1, 1]);
  assert.deepEqual(rows(config, USD, "AMOUNT, _SOURCE_LINE"), [{ AMOUNT: 99, _SOURCE_LINE: 2 }]);
});

Deno.test("load: a truncated file is reloaded and its vanished rows are deleted", async () => {
  const config = await testConfig();
  const keep = txn("u1");
  const gone = [txn("u1"), txn("u2")];
  await writePartition(config, USD, "2026-11-20", [keep, ...gone]);
  await writePartition(config, USD, "2026-11-21", [txn("u1")]);
  await load(config);
  assert.equal(count(config, USD), 4);

  await writePartition(config, USD, "2026-11-20", [keep]); // shorter: truncated
  const report = tableOf(await load(config), USD);
  assert.deepEqual([report.files, report.deleted, report.inserted], [1, 3, 1]);
  const ids = rows(config, USD, "TRANSACTION_ID").map((r) => r.TRANSACTION_ID);
  assert.equal(ids.length, 2);
  assert.ok(ids.includes(keep.TRANSACTION_ID));
  assert.ok(!ids.includes(gone[0].TRANSACTION_ID) && !ids.includes(gone[1].TRANSACTION_ID));
});

Deno.test("load: a file rewritten with other content (longer) is reloaded from the start", async () => {
  const config = await testConfig();
  const old = [txn("u1"), txn("u1")];
  await writePartition(config, USD, "2026-11-20", old);
  await load(config);

  const fresh = [txn("u2"), txn("u2"), txn("u2")];
  await writePartition(config, USD, "2026-11-20", fresh);
  const report = tableOf(await load(config), USD);
  assert.deepEqual([report.deleted, report.inserted, report.updated], [2, 3, 0]);
  assert.deepEqual(
    rows(config, USD, "TRANSACTION_ID").map((r) => r.TRANSACTION_ID),
    fresh.map((r) => r.TRANSACTION_ID),
  );
});

Deno.test("load: an overwrite feed becomes exactly the latest snapshot", async () => {
  const config = await testConfig();
  const spend = (type: string, total: number) => ({
    TRANSACTION_TYPE: type,
    TOTAL_AMOUNT_USD: total,
    TRANSACTION_COUNT: 1,
    WINDOW_START: "2026-11-20T10:00:00Z",
    WINDOW_END: "2026-11-20T10:05:00Z",
  });
  const feed = "SPEND_LAST_FIVE_MIN_BY_TYPE";
  await writePartition(config, feed, "2026-11-20", [spend("purchase", 1), spend("refund", 2)]);
  await load(config);
  assert.equal(count(config, feed), 2);

  await writePartition(config, feed, "2026-11-21", [spend("purchase", 5), spend("deposit", 7)]);
  const report = tableOf(await load(config), feed);
  assert.deepEqual([report.files, report.inserted, report.updated, report.deleted], [1, 1, 1, 1]);
  assert.deepEqual(
    rows(config, feed, "TRANSACTION_TYPE, TOTAL_AMOUNT_USD").sort((a, b) =>
      String(a.TRANSACTION_TYPE).localeCompare(String(b.TRANSACTION_TYPE))
    ),
    [
      { TRANSACTION_TYPE: "deposit", TOTAL_AMOUNT_USD: 7 },
      { TRANSACTION_TYPE: "purchase", TOTAL_AMOUNT_USD: 5 },
    ],
  );

  // The same day's snapshot replaced in place (write aside, rename) is loaded again.
  await writePartition(config, feed, "2026-11-21", [spend("deposit", 8)]);
  const replaced = tableOf(await load(config), feed);
  assert.deepEqual([replaced.updated, replaced.deleted], [1, 1]);
  assert.deepEqual(rows(config, feed, "TRANSACTION_TYPE"), [{ TRANSACTION_TYPE: "deposit" }]);
});

Deno.test("load: inferred members appear, are completed, and stay inferred while referenced", async () => {
  const config = await testConfig();
  await writePartition(config, "USERS", "2026-11-20", [user("a"), user("b"), user("c")]);
  await writePartition(config, USD, "2026-11-20", [txn("b"), txn("x")]);
  const first = await load(config);
  assert.equal(tableOf(first, USD).inferred, 1, "x is unknown to USERS");
  const inferred = rows(config, "USERS", "USER_ID_HASHED, CITY, _INFERRED")
    .filter((r) => r._INFERRED === 1);
  assert.deepEqual(inferred, [{ USER_ID_HASHED: "x", CITY: null, _INFERRED: 1 }]);

  // The next snapshot has x (completing it) and lacks b (referenced) and c (not referenced).
  await writePartition(config, "USERS", "2026-11-21", [user("a"), user("x", { CITY: "Nice" })]);
  const second = tableOf(await load(config), "USERS");
  assert.equal(second.deleted, 1, "c left the snapshot and nothing refers to it");
  const users = Object.fromEntries(
    rows(config, "USERS", "USER_ID_HASHED, CITY, _INFERRED").map((r) => [r.USER_ID_HASHED, r]),
  );
  assert.deepEqual(users.x, { USER_ID_HASHED: "x", CITY: "Nice", _INFERRED: 0 });
  assert.deepEqual(users.a, { USER_ID_HASHED: "a", CITY: "Paris", _INFERRED: 0 });
  assert.deepEqual(users.b, { USER_ID_HASHED: "b", CITY: null, _INFERRED: 1 });
  assert.equal(users.c, undefined);
  withDb(config, (db) => {
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
  });
});

Deno.test("load: a value that does not fit is rejected with file, line and reason", async () => {
  const config = await testConfig();
  const feed = "USER_SPENDING_BY_TYPE";
  const spending = (extra: Record<string, unknown>) => ({
    USER_ID_HASHED: "u1",
    TRANSACTION_TYPE: "purchase",
    TOTAL_AMOUNT_USD: 10,
    TRANSACTION_COUNT: 2,
    LAST_TRANSACTION_AT: "2026-11-20T10:00:00Z",
    ...extra,
  });
  await writePartition(config, feed, "2026-11-20", [
    spending({}),
    spending({ TRANSACTION_TYPE: "refund", TRANSACTION_COUNT: 1.5 }),
    spending({ TRANSACTION_TYPE: "deposit", TOTAL_AMOUNT_USD: "12" }),
    spending({ TRANSACTION_TYPE: 7 }),
    spending({ TRANSACTION_TYPE: "transfer", TAGS: ["a"] }),
    spending({ TRANSACTION_TYPE: null }),
    "{not json",
    spending({ TRANSACTION_TYPE: "withdrawal", TOTAL_AMOUNT_USD: 3 }),
  ]);
  const report = tableOf(await load(config), feed);
  assert.deepEqual([report.inserted, report.rejected], [2, 6]);
  assert.deepEqual(report.rejections.map((r) => [r.line, r.reason]), [
    [2, "column TRANSACTION_COUNT is not an integer"],
    [3, "column TOTAL_AMOUNT_USD is not a number"],
    [4, "column TRANSACTION_TYPE is not text"],
    [5, "column TAGS holds an array, not a value"],
    [6, "primary key TRANSACTION_TYPE is missing"],
    [7, "line is not valid JSON"],
  ]);
  assert.equal(
    report.rejections[1].message,
    "Cannot load USER_SPENDING_BY_TYPE: column TOTAL_AMOUNT_USD is not a number (line 3)",
  );
  assert.equal(report.rejections[0].file, `${feed}/2026-11-20/${feed}_2026-11-20.jsonl`);
  // REAL accepts an integer (stored as a number, not coerced to text).
  assert.deepEqual(rows(config, feed, "TRANSACTION_TYPE, typeof(TOTAL_AMOUNT_USD) AS t"), [
    { TRANSACTION_TYPE: "purchase", t: "real" },
    { TRANSACTION_TYPE: "withdrawal", t: "real" },
  ]);
});

Deno.test("load: a new field adds a typed column; later values must fit it", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [
    txn("u1", { RISK_SCORE: null }),
    txn("u1", { RISK_SCORE: 3, FLAGGED: true, CHANNEL: "web" }),
    txn("u1", { RISK_SCORE: 0.5 }),
    txn("u1", { RISK_SCORE: 4, FLAGGED: false }),
    txn("u1", { CHANNEL: 1 }),
  ]);
  const report = tableOf(await load(config), USD);
  assert.deepEqual([report.inserted, report.rejected], [3, 2]);
  assert.deepEqual(report.rejections.map((r) => [r.line, r.reason]), [
    [3, "column RISK_SCORE is not an integer"],
    [5, "column CHANNEL is not text"],
  ]);
  const types = withDb(config, (db) =>
    Object.fromEntries(
      db.prepare(`PRAGMA table_info(${USD})`).all().map((c) => [c.name, c.type]),
    ));
  assert.deepEqual([types.RISK_SCORE, types.FLAGGED, types.CHANNEL], [
    "INTEGER",
    "INTEGER",
    "TEXT",
  ]);
  assert.deepEqual(rows(config, USD, "RISK_SCORE, FLAGGED, CHANNEL"), [
    { RISK_SCORE: null, FLAGGED: null, CHANNEL: null },
    { RISK_SCORE: 3, FLAGGED: 1, CHANNEL: "web" },
    { RISK_SCORE: 4, FLAGGED: 0, CHANNEL: null },
  ]);
});

Deno.test("load: static feeds are inserted once", async () => {
  const config = await testConfig();
  const feed = "CURRENCY_RATES";
  await writePartition(config, feed, "2026-11-20", [{ CURRENCY: "EUR", RATE_TO_USD: 1.08 }]);
  await load(config);
  await writePartition(config, feed, "2026-11-21", [
    { CURRENCY: "EUR", RATE_TO_USD: 2 },
    { CURRENCY: "GBP", RATE_TO_USD: 1.27 },
  ]);
  const report = tableOf(await load(config), feed);
  assert.deepEqual([report.inserted, report.updated], [1, 0]);
  assert.deepEqual(rows(config, feed, "CURRENCY, RATE_TO_USD"), [
    { CURRENCY: "EUR", RATE_TO_USD: 1.08 },
    { CURRENCY: "GBP", RATE_TO_USD: 1.27 },
  ]);
});

Deno.test("load: --feeds limits the load; an unknown feed is a ValidationError", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [txn("u1")]);
  await writePartition(config, "TRANSACTIONS_SECURE", "2026-11-20", [txn("u1")]);
  const report = await load(config, { feeds: ["TRANSACTIONS_SECURE"] });
  assert.deepEqual(report.tables.map((t) => t.feed), ["TRANSACTIONS_SECURE"]);
  assert.equal(count(config, USD), 0);
  await assert.rejects(() => load(config, { feeds: ["NOPE"] }), (error: Error) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /unknown feed "NOPE"/);
    return true;
  });
});

Deno.test("load: a second loader gets a ConflictError naming the running one", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [txn("u1")]);
  await load(config); // creates the warehouse folder
  const held = await acquireLoadLock(config.warehousePath, 1000);
  try {
    await assert.rejects(() => load(config, { lockWaitMs: 200 }), (error: Error) => {
      assert.ok(error instanceof ConflictError);
      assert.match(error.message, new RegExp(`another load is running \\(pid ${Deno.pid} since `));
      return true;
    });
  } finally {
    held.release();
  }
  await writePartition(config, USD, "2026-11-20", [txn("u2")], { append: true });
  assert.equal(tableOf(await load(config), USD).inserted, 1, "released: loads again");
});

Deno.test("load: forgetLakeFiles makes a file count as new (upserts, no duplicates)", async () => {
  const config = await testConfig();
  const path = await writePartition(config, USD, "2026-11-20", [txn("u1"), txn("u1")]);
  await load(config);
  const warehouse = openSqliteWarehouse(config.warehousePath);
  const forgotten = await forgetLakeFiles(warehouse, [path]).finally(() => warehouse.close());
  assert.equal(forgotten, 1);
  const report = tableOf(await load(config), USD);
  assert.deepEqual([report.files, report.inserted, report.updated], [1, 0, 2]);
  assert.equal(count(config, USD), 2);
});

Deno.test("load: batches commit as they go and the abort signal stops between batches", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", Array.from({ length: 25 }, () => txn("u1")));
  const controller = new AbortController();
  let committed = 0;
  const report = await load(config, {
    batchRows: 10,
    signal: controller.signal,
    // The progress display hears of each committed batch: abort after the first.
    progress: () => ({
      update: () => {
        committed++;
        controller.abort();
      },
      finish() {},
    }),
  });
  assert.equal(report.aborted, true);
  assert.equal(committed, 1);
  assert.equal(count(config, USD), 10);
  const rest = tableOf(await load(config, { batchRows: 10 }), USD);
  assert.deepEqual([rest.inserted, rest.updated], [15, 0]);
  assert.equal(count(config, USD), 25);
});

Deno.test("load: a bulk load drops and rebuilds the foreign-key index; a crash leaves it to the next schema step", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", Array.from({ length: 25 }, () => txn("u1")));
  const index = `${USD}__USER_ID_HASHED`;
  const hasIndex = () =>
    withDb(
      config,
      (db) =>
        db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(index) !==
          undefined,
    );
  const seen: boolean[] = [];
  await load(config, {
    bulkBytes: 1,
    batchRows: 10,
    progress: () => ({ update: () => seen.push(hasIndex()), finish() {} }),
  });
  assert.deepEqual(seen, [false, false, true], "dropped during the load, back in the last batch");
  assert.equal(count(config, USD), 25);

  // A crash mid-bulk-load (index dropped, committed) is repaired by the next load.
  withDb(config, (db) => db.exec(`DROP INDEX "${index}"`));
  assert.equal(hasIndex(), false);
  await load(config);
  assert.equal(hasIndex(), true);
});

Deno.test("load: SQLite's load settings (page cache, checkpoint interval) are set back after it", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [txn("u1"), txn("u2")]);
  const warehouse = openSqliteWarehouse(config.warehousePath);
  try {
    const setting = async (name: string) =>
      Object.values((await warehouse.get(`PRAGMA ${name}`))!)[0];
    const before = [await setting("cache_size"), await setting("wal_autocheckpoint")];
    const report = await runLoad({ config, warehouse, log: silentLogger });
    assert.equal(report.totals.inserted, 2);
    assert.deepEqual([await setting("cache_size"), await setting("wal_autocheckpoint")], before);
  } finally {
    await warehouse.close();
  }
});
