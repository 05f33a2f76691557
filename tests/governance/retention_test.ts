import assert from "node:assert/strict";
import { recentAudit } from "../../src/governance/audit.ts";
import { retentionCutoff, runCleanup } from "../../src/governance/retention.ts";
import { silentLogger } from "../../src/core/log.ts";
import { partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { lakeRelative } from "../../src/warehouse/bookkeeping.ts";
import type { Sql } from "../../src/warehouse/engine.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { count, dayBefore, insertTransaction, openTestWarehouse, writeJsonl } from "./fixtures.ts";

const NOW = new Date("2026-11-24T12:00:00.000Z");
const FEED = "TRANSACTIONS_SECURE";

/** What the loader would have recorded for a loaded lake file (its bookkeeping row). */
async function saveLoaded(sql: Sql, path: string): Promise<void> {
  await sql.run(
    `INSERT INTO _LOADER_FILES ("PATH", "FEED", "SIZE", "MTIME", "LINES", "BYTES_READ",
       "HEAD_HASH", "LOADED_AT") VALUES (?, ?, 40, NULL, 1, 40, 'x', ?)`,
    [lakeRelative(path), FEED, NOW.toISOString()],
  );
}

async function loadedPaths(sql: Sql): Promise<string[]> {
  const rows = await sql.all(`SELECT "PATH" FROM _LOADER_FILES WHERE "FEED" = ?`, [FEED]);
  return rows.map((r) => String(r.PATH)).sort();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("retentionCutoff: the oldest kept day is today minus N days (UTC)", () => {
  assert.equal(retentionCutoff(NOW, 30), "2026-10-25");
  assert.equal(retentionCutoff(NOW, 0), "2026-11-24");
  assert.equal(retentionCutoff(new Date("2026-03-01T00:30:00Z"), 1), "2026-02-28");
});

engineTest(
  "cleanup: partitions 40, 30, 29 and 0 days old, a stray folder, quarantine, rows; dry run first",
  async (_t, e) => {
    const config = await testConfig({ env: e.env }); // RETENTION_DAYS defaults to 30
    const root = config.dataLakeDir;
    const db = await openTestWarehouse(config);
    try {
      const ages = [40, 30, 29, 0];
      const paths = new Map<number, string>();
      for (const age of ages) {
        const path = partitionPath(root, FEED, dayBefore(NOW, age));
        paths.set(age, path);
        await writeJsonl(path, [{ TRANSACTION_ID: `TXN-${age}`, AGE: age }]);
        await saveLoaded(db, path);
      }
      await Deno.mkdir(`${root}/${FEED}/not-a-date`, { recursive: true });
      await Deno.mkdir(`${root}/${FEED}/2026-02-30`, { recursive: true }); // no such day
      const oldRejected = rejectedPath(root, FEED, dayBefore(NOW, 40));
      const newRejected = rejectedPath(root, FEED, dayBefore(NOW, 0));
      await writeJsonl(oldRejected, [{ reason: "old" }]);
      await writeJsonl(newRejected, [{ reason: "new" }]);
      // A table feed whose only snapshot is old keeps it; one with a newer snapshot loses the old.
      const onlySnapshot = partitionPath(root, "CURRENCY_RATES", dayBefore(NOW, 40));
      await writeJsonl(onlySnapshot, [{ CURRENCY: "EUR", RATE_TO_USD: 1.1 }]);
      const oldUsers = partitionPath(root, "USERS", dayBefore(NOW, 40));
      await writeJsonl(oldUsers, [{ USER_ID_HASHED: "a" }]);
      await writeJsonl(partitionPath(root, "USERS", dayBefore(NOW, 0)), [{ USER_ID_HASHED: "a" }]);

      // Rows around the cutoff (2026-10-25T00:00Z); only those before it go.
      const rows: [string, string, boolean][] = [
        ["T40", "2026-10-15T10:00:00.000Z", false],
        ["T31-late", "2026-10-24T23:59:59.999Z", false],
        ["T-offset", "2026-10-25T01:00:00+02:00", false], // 2026-10-24T23:00Z
        ["T30-start", "2026-10-25T00:00:00.000Z", true],
        ["T29", "2026-10-26T08:00:00.000Z", true],
        ["T0", "2026-11-24T11:00:00.000Z", true],
        ["T-no-time", "not a time", true],
      ];
      for (const [id, at] of rows) await insertTransaction(db, { id, user: "u1", at });
      const kept = rows.filter(([, , keep]) => keep).map(([id]) => id);

      const dry = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: true,
        now: NOW,
      });
      const secure = dry.feeds.find((f) => f.feed === FEED)!;
      assert.equal(secure.keepFrom, "2026-10-25");
      assert.deepEqual(secure.partitions.map((p) => p.path), [paths.get(40)]);
      assert.deepEqual(secure.rejected.map((p) => p.path), [oldRejected]);
      assert.equal(secure.rows, 3);
      assert.deepEqual(secure.strays.map((s) => s.split("/").pop()), ["2026-02-30", "not-a-date"]);
      assert.deepEqual(dry.feeds.find((f) => f.feed === "USERS")!.partitions.map((p) => p.path), [
        oldUsers,
      ]);
      assert.deepEqual(dry.feeds.find((f) => f.feed === "CURRENCY_RATES")!.partitions, []);
      assert.equal(dry.totals.partitions, 3);
      assert.equal(dry.totals.rows, 3);
      // The dry run deleted nothing.
      for (const path of [...paths.values(), oldRejected, oldUsers]) assert.ok(await exists(path));
      assert.equal(await count(db, `SELECT COUNT(*) AS n FROM ${FEED}`), rows.length);
      assert.equal((await recentAudit(db, { action: "retention.run" })).length, 0);

      const done = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: false,
        now: NOW,
      });
      assert.deepEqual(done.totals, dry.totals, "the dry run said exactly what would go");
      assert.equal(await exists(paths.get(40)!), false);
      assert.equal(await exists(`${root}/${FEED}/${dayBefore(NOW, 40)}`), false, "folder gone");
      for (const age of [30, 29, 0]) assert.ok(await exists(paths.get(age)!), `${age} days kept`);
      assert.equal(await exists(oldRejected), false);
      assert.ok(await exists(newRejected));
      assert.ok(await exists(`${root}/${FEED}/not-a-date`), "strays are left alone");
      assert.ok(await exists(onlySnapshot), "the current snapshot of a table is kept");
      assert.equal(await exists(oldUsers), false);
      const left = (await db.all(`SELECT TRANSACTION_ID FROM ${FEED}`))
        .map((r) => String(r.TRANSACTION_ID));
      assert.deepEqual(left.sort(), kept.sort());
      assert.deepEqual(
        await loadedPaths(db),
        [30, 29, 0].map((age) => lakeRelative(paths.get(age)!)).sort(),
        "the loader forgot the deleted file only",
      );
      const audited = (await recentAudit(db)).map((r) => `${r.action} ${r.target ?? ""}`).sort();
      assert.deepEqual(
        audited,
        [
          `retention.delete_partition USERS/${dayBefore(NOW, 40)}`,
          `retention.delete_partition _rejected/${FEED}/${dayBefore(NOW, 40)}`,
          `retention.delete_partition ${FEED}/${dayBefore(NOW, 40)}`,
          `retention.delete_rows ${FEED}`,
          "retention.run ",
        ].sort(),
      );

      // A second run has nothing left to do; --days overrides every feed's retention.
      const again = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: false,
        now: NOW,
      });
      assert.equal(again.totals.partitions + again.totals.rows, 0);
      const shorter = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: true,
        now: NOW,
        days: 29,
      });
      assert.deepEqual(shorter.feeds.find((f) => f.feed === FEED)!.partitions.map((p) => p.path), [
        paths.get(30),
      ]);
      const zero = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: true,
        now: NOW,
        days: 0,
      });
      assert.equal(zero.feeds.find((f) => f.feed === FEED)!.partitions.length, 2, "30 and 29 go");
      assert.ok(!zero.feeds.some((f) => f.partitions.some((p) => p.path === paths.get(0))));
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "cleanup command: --dry-run lists, then cleanup deletes and prints counts per feed",
  async (_t, e) => {
    const config = await testConfig({ env: { ...e.env, RETENTION_DAYS: "30" } });
    const env = { ...envOf(config), RETENTION_DAYS: "30" };
    const now = new Date();
    const old = partitionPath(config.dataLakeDir, FEED, dayBefore(now, 40));
    const young = partitionPath(config.dataLakeDir, FEED, dayBefore(now, 0));
    try {
      await writeJsonl(old, [{ TRANSACTION_ID: "TXN-0000000A" }]);
      await writeJsonl(young, [{ TRANSACTION_ID: "TXN-0000000B" }]);
      await Deno.mkdir(`${config.dataLakeDir}/${FEED}/misc`, { recursive: true });

      const dry = await runMain(["cleanup", "--dry-run"], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /would delete 1 partition\(s\), 0 warehouse row\(s\)/);
      assert.ok(dry.stdout.includes(old), dry.stdout);
      assert.ok(dry.stdout.includes(`${FEED}/misc`), "the stray folder is reported");
      assert.ok(await exists(old));

      const real = await runMain(["cleanup"], env);
      assert.equal(real.code, 0, real.stderr);
      assert.match(real.stdout, /deleted 1 partition\(s\)/);
      assert.match(real.stdout, new RegExp(`${FEED}\\s+\\S+\\s+1\\s+0\\s+\\d+ B`));
      assert.equal(await exists(old), false);
      assert.ok(await exists(young));

      const bad = await runMain(["cleanup", "--days", "soon"], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--days must be a whole number/);
    } finally {
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "cleanup: a stream without timeField loses the rows of its expired partitions",
  async (_t, e) => {
    const config = await testConfig({
      env: e.env,
      feeds: [{ name: "CLICKS", kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT" } }],
    });
    const db = await openTestWarehouse(config);
    try {
      for (const [id, age] of [["old", 31], ["edge", 30], ["new", 0]] as const) {
        const day = dayBefore(NOW, age);
        await db.run('INSERT INTO CLICKS (ID, "_SOURCE_FILE") VALUES (?, ?)', [
          id,
          `CLICKS/${day}/CLICKS_${day}.jsonl`,
        ]);
      }
      const report = await runCleanup({
        config,
        warehouse: db,
        log: silentLogger,
        dryRun: false,
        now: NOW,
      });
      assert.equal(report.totals.rows, 1);
      const left = (await db.all("SELECT ID FROM CLICKS ORDER BY ID")).map((r) => r.ID);
      assert.deepEqual(left, ["edge", "new"]);
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
