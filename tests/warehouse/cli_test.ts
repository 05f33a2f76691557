import assert from "node:assert/strict";
import { envOf, killWhenLogged, runMain, testConfig } from "../helpers/env.ts";
import { count, rows, txn, withDb, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";

Deno.test("load (process): a crash right after a batch leaves a consistent warehouse that the next load completes", async () => {
  const config = await testConfig();
  const day1 = Array.from({ length: 2500 }, (_, i) => txn(`user-${i % 40}`));
  const day2 = Array.from({ length: 2500 }, (_, i) => txn(`user-${i % 70}`));
  await writePartition(config, USD, "2026-11-20", day1);
  await writePartition(config, USD, "2026-11-21", day2);
  const env = { ...envOf(config), LOADER_BATCH_ROWS: "1000" };

  // Killed (SIGKILL: no cleanup runs) once the loader reports its first committed batch.
  await killWhenLogged(
    ["load", "--feeds", USD],
    env,
    (event) => event.event === "warehouse.batch_committed",
  );
  withDb(config, (db) => {
    assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
  });
  const partial = count(config, USD);
  assert.ok(partial >= 1000 && partial < 5000, `some batches committed, not all: ${partial}`);
  assert.equal(partial % 1000, 0, `whole batches of 1000 lines only: ${partial}`);
  const users = count(config, "USERS");
  assert.ok(users >= 40 && users <= 70, `placeholders of the committed batches only: ${users}`);
  withDb(config, (db) => {
    const kept = db.prepare("SELECT FEED, ROW_COUNT FROM _LOADER_TABLES WHERE FEED IN (?, ?)")
      .all(USD, "USERS").map((r) => [r.FEED, r.ROW_COUNT] as const);
    assert.deepEqual(
      new Map(kept),
      new Map([[USD, partial], ["USERS", users]]),
      "counts committed with their rows",
    );
  });

  const resumed = await runMain(["load", "--feeds", USD], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stdout,
    new RegExp(`TRANSACTIONS_USD: ${5000 - partial} inserted, 0 updated, 0 rejected`),
  );
  const ids = rows(config, USD, "TRANSACTION_ID").map((r) => r.TRANSACTION_ID);
  assert.equal(ids.length, 5000);
  assert.deepEqual(new Set(ids), new Set([...day1, ...day2].map((r) => r.TRANSACTION_ID)));
  withDb(config, (db) => {
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
    const audits = db.prepare("SELECT ACTION, OUTCOME FROM AUDIT_LOG ORDER BY AUDIT_ID").all();
    assert.deepEqual(audits.map((a) => [a.ACTION, a.OUTCOME]), [["job.load", "ok"]]);
  });

  const noop = await runMain(["load"], env);
  assert.equal(noop.code, 0, noop.stderr);
  assert.match(noop.stdout, /nothing new in the lake/);
  assert.match(noop.stderr, /"event":"warehouse.load_done"/);
});

Deno.test("load (process): one line per table and a structured log line; unknown feed exits 2", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", [txn("u1"), "[1]", txn("u2")]);
  const env = envOf(config);
  const out = await runMain(["load"], env);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /^! TRANSACTIONS_USD: 2 inserted, 0 updated, 1 rejected, 2 inferred in \d+\.\d s$/m,
  );
  assert.match(out.stdout, /Cannot load TRANSACTIONS_USD: line is not a JSON object \(line 2\)/);
  const logged = out.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .find((e) => e.event === "warehouse.table_loaded" && e.feed === USD);
  assert.deepEqual([logged?.inserted, logged?.rejected, logged?.files], [2, 1, 1]);

  const bad = await runMain(["load", "--feeds", "TRANSACTIONS_USD,NOPE"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown feed "NOPE"/);
});
