/**
 * The loader on both engines (tests/helpers/engines.ts): schema and keys, twice-loaded and
 * appended files, snapshot replacement, inferred members, a new field, a type mismatch, and
 * the row counts kept true by erasure and retention.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { eraseUser } from "../../src/governance/erasure.ts";
import { runCleanup } from "../../src/governance/retention.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import { hmacHexSync, hmacKey } from "../../src/processor/pseudonymize.ts";
import { readRowCounts } from "../../src/warehouse/bookkeeping.ts";
import type { Warehouse } from "../../src/warehouse/engine.ts";
import { type LoadReport, runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, killWhenLogged, runMain, testConfig } from "../helpers/env.ts";
import { tableOf, txn, user, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";

async function loadInto(config: Config, w: Warehouse): Promise<LoadReport> {
  return await runLoad({ config, warehouse: w, log: silentLogger, feeds: ["USERS", USD] });
}

async function countOf(w: Warehouse, table: string, where = ""): Promise<number> {
  return Number((await w.get(`SELECT COUNT(*) AS n FROM "${table}" ${where}`))?.n);
}

engineTest(
  "load: typed keys enforced, twice-loaded and appended files, no duplicates",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const w = await openWarehouseFromConfig(config);
    try {
      const first = [txn("u1"), txn("u2"), txn("u1")];
      await writePartition(config, USD, "2026-11-20", first);
      const report = tableOf(await loadInto(config, w), USD);
      assert.deepEqual([report.inserted, report.updated, report.rejected], [3, 0, 0]);
      assert.equal(tableOf(await loadInto(config, w), USD).files, 0, "nothing new: nothing read");
      assert.equal(await countOf(w, USD), 3);

      await writePartition(config, USD, "2026-11-20", [txn("u3"), first[0]], { append: true });
      const again = tableOf(await loadInto(config, w), USD);
      assert.deepEqual([again.inserted, again.updated], [1, 1], "a repeated key is an update");
      assert.equal(await countOf(w, USD), 4);
      const row = await w.get(`SELECT * FROM "${USD}" WHERE TRANSACTION_ID = ?`, [
        String(first[0].TRANSACTION_ID),
      ]);
      assert.equal(row?.AMOUNT, 12.5, "REAL comes back a number");
      assert.equal(typeof row?._SOURCE_LINE, "number");

      // Keys are enforced by the engine itself: a second row with the same key is refused.
      await assert.rejects(() =>
        w.run(
          `INSERT INTO "${USD}" (TRANSACTION_ID, USER_ID_HASHED) VALUES (?, 'u1')`,
          [String(first[0].TRANSACTION_ID)],
        )
      );
      // ... and so is a foreign key to a user that does not exist.
      await assert.rejects(() =>
        w.run(`INSERT INTO "${USD}" (TRANSACTION_ID, USER_ID_HASHED) VALUES ('TXN-X', 'nobody')`)
      );
    } finally {
      await w.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "load: inferred members, completed by the real row; snapshot replacement",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const w = await openWarehouseFromConfig(config);
    try {
      await writePartition(config, USD, "2026-11-20", [txn("u1"), txn("u2")]);
      const report = tableOf(await loadInto(config, w), USD);
      assert.equal(report.inferred, 2);
      assert.equal(await countOf(w, "USERS", `WHERE "_INFERRED" = 1`), 2);

      await writePartition(config, "USERS", "2026-11-21", [user("u1"), user("u9")]);
      const users = tableOf(await loadInto(config, w), "USERS");
      assert.deepEqual([users.inserted, users.updated], [1, 1]);
      const u1 = await w.get(`SELECT * FROM USERS WHERE USER_ID_HASHED = 'u1'`);
      assert.equal(u1?._INFERRED, 0);
      assert.equal(u1?.CITY, "Paris");

      // The next snapshot drops u9 (deleted) and u1 (still referenced: a placeholder again).
      await writePartition(config, "USERS", "2026-11-22", [user("u2")]);
      const next = tableOf(await loadInto(config, w), "USERS");
      assert.equal(next.deleted, 1);
      const left = (await w.all(`SELECT USER_ID_HASHED AS id, "_INFERRED" AS i, CITY FROM USERS`))
        .map((r) => `${r.id}:${r.i}:${r.CITY}`).sort();
      assert.deepEqual(left, ["u1:1:null", "u2:0:Paris"]);
    } finally {
      await w.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "load: a new field adds a column; a value of the wrong type is rejected",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const w = await openWarehouseFromConfig(config);
    try {
      await writePartition(config, USD, "2026-11-20", [txn("u1")]);
      await loadInto(config, w);
      await writePartition(config, USD, "2026-11-21", [
        txn("u1", { CHANNEL: "web" }),
        txn("u1", { AMOUNT: "twelve" }),
      ]);
      const report = tableOf(await loadInto(config, w), USD);
      assert.equal(report.inserted, 1);
      assert.equal(report.rejected, 1);
      assert.match(report.rejections[0].message, /AMOUNT/);
      const columns = (await w.dialect.columns(w, USD)).map((c) => c.name);
      assert.ok(columns.includes("CHANNEL"), "ALTER TABLE ADD COLUMN");
      assert.equal(await countOf(w, USD, `WHERE CHANNEL = 'web'`), 1);
    } finally {
      await w.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest("erasure and retention keep the loader's row counts true", async (_t, e) => {
  const config = await testConfig({ env: e.env });
  const w = await openWarehouseFromConfig(config);
  try {
    const key = hmacKey(config.anonymizationKey!);
    const gone = hmacHexSync(key, "U00042");
    await writePartition(config, USD, "2026-11-20", [
      txn(gone),
      txn(gone),
      txn("other", { TIMESTAMP: "2001-01-01T00:00:00Z" }),
      txn("other"),
    ]);
    await loadInto(config, w);
    await ensureGovernanceSchema(w);
    assert.equal((await readRowCounts(w)).get(USD), 4);
    const erased = await eraseUser({ config, warehouse: w, log: silentLogger, userId: "U00042" });
    assert.equal(erased.rows[USD], 2);
    assert.equal((await readRowCounts(w)).get(USD), 2, "after erasure");
    assert.equal((await readRowCounts(w)).get(USD), await countOf(w, USD));
    const cleaned = await runCleanup({
      config,
      warehouse: w,
      log: silentLogger,
      dryRun: false,
      days: 3650,
      now: new Date("2026-11-24T00:00:00Z"),
    });
    assert.equal(cleaned.feeds.find((f) => f.feed === USD)?.rows, 1);
    assert.equal((await readRowCounts(w)).get(USD), 1, "after retention");
    assert.equal(await countOf(w, USD), 1);
  } finally {
    await w.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

engineTest(
  "a load killed after a committed batch: the rerun loses and duplicates nothing",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    try {
      const lines = Array.from({ length: 25 }, (_, i) => txn(`u${i % 4}`));
      await writePartition(config, USD, "2026-11-20", lines);
      const env = { ...envOf(config), LOADER_BATCH_ROWS: "5" };
      // Killed (SIGKILL) once the loader reports a committed batch of TRANSACTIONS_USD.
      await killWhenLogged(
        ["load", "--feeds", `USERS,${USD}`],
        env,
        (event) => event.event === "warehouse.batch_committed" && event.feed === USD,
      );
      const w = await openWarehouseFromConfig(config);
      try {
        const partial = await countOf(w, USD);
        assert.ok(partial > 0 && partial < 25, `some batches committed: ${partial}`);
        const rerun = await runMain(["load", "--feeds", `USERS,${USD}`], env);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.equal(await countOf(w, USD), 25, "every line once");
        assert.equal((await readRowCounts(w)).get(USD), 25, "the kept count agrees");
      } finally {
        await w.close();
      }
    } finally {
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
