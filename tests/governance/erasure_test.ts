import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { recentAudit } from "../../src/governance/audit.ts";
import { eraseUser } from "../../src/governance/erasure.ts";
import { partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { hmacHexSync, hmacKey } from "../../src/processor/pseudonymize.ts";
import { lakeRelative } from "../../src/warehouse/bookkeeping.ts";
import type { Sql } from "../../src/warehouse/engine.ts";
import { runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { count, insertTransaction, openTestWarehouse, writeJsonl } from "./fixtures.ts";

const DAY = "2026-11-20";

/** Lake files the loader's bookkeeping remembers for `feed`. */
async function remembered(sql: Sql, feed: string): Promise<string[]> {
  return (await sql.all(`SELECT "PATH" FROM _LOADER_FILES WHERE "FEED" = ?`, [feed]))
    .map((r) => String(r.PATH));
}

engineTest(
  "erase --user removes one person from lake and warehouse and nobody else",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const env = envOf(config);
    const root = config.dataLakeDir;
    const key = hmacKey(config.anonymizationKey!);
    const gone = hmacHexSync(key, "U00042");
    const stays = hmacHexSync(key, "U00007");
    const txn = (id: string, user: string) => ({
      TRANSACTION_ID: id,
      USER_ID_HASHED: user,
      AMOUNT: 12.5,
      TIMESTAMP: `${DAY}T10:00:00.000Z`,
    });
    const secure = partitionPath(root, "TRANSACTIONS_SECURE", DAY);
    const users = partitionPath(root, "USERS", DAY);
    const usd = partitionPath(root, "TRANSACTIONS_USD", DAY);
    const quarantine = rejectedPath(root, "TRANSACTIONS_USD", DAY);
    try {
      await writeJsonl(secure, [
        txn("TXN-00000001", stays),
        txn("TXN-00000002", gone),
        txn("TXN-00000003", stays),
        txn("TXN-00000004", gone),
      ]);
      await writeJsonl(users, [{ USER_ID_HASHED: gone }, { USER_ID_HASHED: stays }]);
      await writeJsonl(usd, [txn("TXN-00000001", stays)]);
      await writeJsonl(quarantine, [{
        reason: "AMOUNT is not a number",
        raw: JSON.stringify({ ...txn("TXN-00000009", gone), AMOUNT: "x" }),
      }, { reason: "bad", raw: "{" }]);
      const untouchedBefore = await Deno.stat(usd);

      const db = await openTestWarehouse(config);
      for (const [id, user] of [["A", stays], ["B", gone], ["C", stays], ["D", gone]]) {
        await insertTransaction(db, { id, user, at: `${DAY}T10:00:00.000Z` });
      }
      await insertTransaction(db, {
        id: "E",
        user: gone,
        at: `${DAY}T11:00:00Z`,
        table: "TRANSACTIONS_USD",
      });
      await insertTransaction(db, {
        id: "F",
        user: stays,
        at: `${DAY}T11:00:00Z`,
        table: "TRANSACTIONS_USD",
      });
      for (const user of [gone, stays]) {
        await db.run(
          "INSERT INTO USER_SPENDING_BY_TYPE (USER_ID_HASHED, TRANSACTION_TYPE, TOTAL_AMOUNT_USD) " +
            "VALUES (?, 'purchase', 10)",
          [user],
        );
      }
      for (const path of [secure, usd]) {
        await db.run(
          `INSERT INTO _LOADER_FILES ("PATH", "FEED", "SIZE", "MTIME", "LINES", "BYTES_READ",
           "HEAD_HASH", "LOADED_AT") VALUES (?, ?, 1, NULL, 1, 1, 'x', ?)`,
          [
            lakeRelative(path),
            path === secure ? "TRANSACTIONS_SECURE" : "TRANSACTIONS_USD",
            new Date().toISOString(),
          ],
        );
      }
      await db.close();

      const result = await runMain(["erase", "--user", "U00042"], { ...env, USER: "dpo" });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /erased user U00042 .*: 4 lake line\(s\) from 3 file\(s\), 5 warehouse row\(s\), 13 Kafka/,
      );

      // Lake: their lines are gone, everyone else's are there, byte for byte.
      const secureLines = (await Deno.readTextFile(secure)).split("\n").filter(Boolean);
      assert.deepEqual(secureLines, [
        JSON.stringify(txn("TXN-00000001", stays)),
        JSON.stringify(txn("TXN-00000003", stays)),
      ]);
      assert.equal(
        await Deno.readTextFile(users),
        JSON.stringify({ USER_ID_HASHED: stays }) + "\n",
      );
      assert.equal(
        await Deno.readTextFile(quarantine),
        JSON.stringify({ reason: "bad", raw: "{" }) + "\n",
      );
      const untouchedAfter = await Deno.stat(usd);
      assert.equal(untouchedAfter.mtime?.getTime(), untouchedBefore.mtime?.getTime());
      for (const dir of [secure, users, quarantine].map((p) => p.slice(0, p.lastIndexOf("/")))) {
        const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
        assert.equal(names.length, 1, `no temp file left in ${dir}: ${names}`);
      }

      // Warehouse: nothing of theirs in any table, everything of the others.
      const check = await openWarehouseFromConfig(config);
      try {
        for (
          const table of [
            "TRANSACTIONS_SECURE",
            "TRANSACTIONS_USD",
            "USER_SPENDING_BY_TYPE",
            "USERS",
          ]
        ) {
          const q = `SELECT COUNT(*) AS n FROM ${table} WHERE USER_ID_HASHED = ?`;
          assert.equal(await count(check, q, gone), 0, `${table} still holds them`);
          assert.ok((await count(check, q, stays)) > 0, `${table} lost someone else`);
        }
        assert.equal(await count(check, "SELECT COUNT(*) AS n FROM TRANSACTIONS_SECURE"), 2);
        assert.deepEqual(await remembered(check, "TRANSACTIONS_SECURE"), []);
        assert.equal(
          (await remembered(check, "TRANSACTIONS_USD")).length,
          1,
          "untouched file remembered",
        );
        const [row] = await recentAudit(check, { action: "erasure.run" });
        assert.equal(row.actor, "cli:dpo");
        assert.equal(row.target, `user:${gone.slice(0, 12)}`);
        assert.equal(row.detail?.totalRows, 5);
        const auditText = JSON.stringify(await recentAudit(check));
        assert.ok(!auditText.includes("U00042") && !auditText.includes(gone), "no id kept");
      } finally {
        await check.close();
      }

      // Again: nothing left, zero, success.
      const again = await runMain(["erase", "--user", "U00042"], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 lake line\(s\) from 0 file\(s\), 0 warehouse row\(s\)/);
      assert.match(again.stdout, /nothing to erase/);

      const noKey = await runMain(["erase", "--user", "U00042"], { ...env, ANONYMIZATION_KEY: "" });
      assert.equal(noKey.code, 3, "a ConfigError");
      assert.match(noKey.stderr, /ANONYMIZATION_KEY is not set/);
      const noUser = await runMain(["erase"], env);
      assert.equal(noUser.code, 2);
    } finally {
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

Deno.test("erasure then a real load: the loader does not bring the person back", async () => {
  const config = await testConfig();
  const key = hmacKey(config.anonymizationKey!);
  const gone = hmacHexSync(key, "U00042");
  const stays = hmacHexSync(key, "U00007");
  const day = "2026-11-21";
  const record = (id: string, user: string) => ({
    TRANSACTION_ID: id,
    USER_ID_HASHED: user,
    AMOUNT: 3,
    TIMESTAMP: `${day}T09:00:00.000Z`,
  });
  const secure = partitionPath(config.dataLakeDir, "TRANSACTIONS_SECURE", day);
  const db = await openTestWarehouse(config);
  try {
    await writeJsonl(partitionPath(config.dataLakeDir, "USERS", day), [
      { USER_ID_HASHED: gone, CITY: "Paris" },
      { USER_ID_HASHED: stays, CITY: "Lyon" },
    ]);
    await writeJsonl(secure, [record("TXN-0000000A", gone), record("TXN-0000000B", stays)]);
    await runLoad({ config, warehouse: db, log: silentLogger });
    assert.equal(await count(db, "SELECT COUNT(*) AS n FROM TRANSACTIONS_SECURE"), 2);

    const report = await eraseUser({ config, warehouse: db, log: silentLogger, userId: "U00042" });
    assert.equal(report.totalRows, 2);
    assert.equal(report.tombstones.complete, false, "no Kafka client: tombstones not sent");
    // New data arrives for someone else, then the next load runs.
    await Deno.writeTextFile(secure, JSON.stringify(record("TXN-0000000C", stays)) + "\n", {
      append: true,
    });
    await runLoad({ config, warehouse: db, log: silentLogger });
    const ids = (await db.all("SELECT TRANSACTION_ID, USER_ID_HASHED FROM TRANSACTIONS_SECURE"))
      .map((r) => `${r.TRANSACTION_ID} ${r.USER_ID_HASHED === stays ? "stays" : "GONE"}`).sort();
    assert.deepEqual(ids, ["TXN-0000000B stays", "TXN-0000000C stays"]);
    assert.equal(
      await count(db, "SELECT COUNT(*) AS n FROM USERS WHERE USER_ID_HASHED = ?", gone),
      0,
    );
  } finally {
    await db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});
