/**
 * The MariaDB server stopped in the middle of a load (issue 11): the load fails with one clear
 * line (no stack trace), and once the server is back the next load brings in every row exactly
 * once. Runs a MariaDB of its own (scripts/mariadb.sh on MARIADB_PORT 3327), since it stops it;
 * skipped with a message where mariadb-server is not installed. Also: a server that refuses
 * LOAD DATA LOCAL (local_infile off, MySQL 8's default; its own server on 3329) gets every row
 * by statements instead.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { envOf, REPO_ROOT, runMain, spawnMain, testConfig } from "../helpers/env.ts";

const PORT = "3327";
const NO_INFILE_PORT = "3329";
const USD = "TRANSACTIONS_USD";
const LINES = 60_000;
const hasMariadb = existsSync("/usr/sbin/mariadbd") ||
  new Deno.Command("sh", { args: ["-c", "command -v mariadbd"], stdout: "null" }).outputSync()
    .success;

async function mariadb(
  action: "start" | "stop" | "url",
  env: Record<string, string> = { MARIADB_PORT: PORT },
): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [`${REPO_ROOT}scripts/mariadb.sh`, action],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, `mariadb.sh ${action}: ${new TextDecoder().decode(out.stderr)}`);
  return text.split("\n").at(-1) ?? "";
}

Deno.test({
  name: "[mysql] the server stopped mid-load: one clear error line; the rerun loads every row once",
  ignore: !hasMariadb,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await mariadb("start");
    const url = await mariadb("url");
    const config = await testConfig({ env: { WAREHOUSE_URL: url } });
    try {
      await generateLake(config.dataLakeDir, LINES);
      const env = { ...envOf(config), LOADER_BATCH_ROWS: "1000" };
      // This server's database may hold an earlier run's tables: start from none.
      await dropFeedTables(config);

      const load = spawnMain(["load", "--feeds", USD], env);
      const output = load.output();
      await waitForRows(config);
      await mariadb("stop");
      const failed = await output;
      const stderr = new TextDecoder().decode(failed.stderr);
      assert.equal(failed.code, 1, stderr);
      const errors = stderr.split("\n").filter((line) => line.startsWith("error:"));
      assert.equal(errors.length, 1, stderr);
      assert.match(errors[0], /MariaDB\/MySQL warehouse at 127\.0\.0\.1:3327\/.* not available/);
      assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
      assert.ok(!stderr.includes(config.warehouseUrl!.password), "no password in the output");

      await mariadb("start");
      const rerun = await runMain(["load", "--feeds", USD], env);
      assert.equal(rerun.code, 0, rerun.stderr);
      const expected = await lakeIds(config.dataLakeDir);
      const warehouse = await openWarehouseFromConfig(config);
      try {
        const rows = await warehouse.all(`SELECT "TRANSACTION_ID" AS id FROM "${USD}"`);
        assert.equal(rows.length, expected.size, "every distinct transaction once");
        assert.deepEqual(new Set(rows.map((r) => String(r.id))), expected);
        const kept = await warehouse.get(
          `SELECT "ROW_COUNT" AS n FROM "_LOADER_TABLES" WHERE "FEED" = ?`,
          [USD],
        );
        assert.equal(Number(kept?.n), expected.size, "the kept row count is right too");
      } finally {
        await warehouse.close();
      }
    } finally {
      await dropFeedTables(config).catch(() => {});
      await mariadb("stop").catch(() => {});
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "[mysql] a server that refuses LOAD DATA LOCAL: every row loads once by statements",
  ignore: !hasMariadb,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = { MARIADB_PORT: NO_INFILE_PORT, MARIADB_LOCAL_INFILE: "0" };
    await mariadb("start", server);
    const config = await testConfig({ env: { WAREHOUSE_URL: await mariadb("url", server) } });
    try {
      await generateLake(config.dataLakeDir, 3000);
      await dropFeedTables(config);
      const load = await runMain(["load", "--feeds", USD], envOf(config));
      assert.equal(load.code, 0, load.stderr);
      const expected = await lakeIds(config.dataLakeDir);
      const warehouse = await openWarehouseFromConfig(config);
      try {
        const refused = await warehouse.get("SELECT @@local_infile AS on_");
        assert.equal(Number(refused?.on_), 0, "the server refuses LOAD DATA LOCAL");
        const rows = await warehouse.all(`SELECT "TRANSACTION_ID" AS id FROM "${USD}"`);
        assert.deepEqual(new Set(rows.map((r) => String(r.id))), expected);
        assert.equal(rows.length, expected.size, "every distinct transaction once");
      } finally {
        await warehouse.close();
      }
    } finally {
      await dropFeedTables(config).catch(() => {});
      await mariadb("stop", server).catch(() => {});
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
});

/** A TRANSACTIONS_USD lake of `lines` lines over two days (bench/gen_transactions.ts). */
async function generateLake(root: string, lines: number): Promise<void> {
  const gen = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}bench/gen_transactions.ts`, root, `${lines}`, "2"],
    stdout: "null",
  }).output();
  assert.equal(gen.code, 0, "lake generated");
}

/** Waits until the load has committed some batches (the kept row count is above zero). */
async function waitForRows(config: Awaited<ReturnType<typeof testConfig>>): Promise<void> {
  const deadline = Date.now() + 120_000;
  const warehouse = await openWarehouseFromConfig(config);
  try {
    while (Date.now() < deadline) {
      const row = await warehouse.get(
        `SELECT "ROW_COUNT" AS n FROM "_LOADER_TABLES" WHERE "FEED" = ?`,
        [USD],
      ).catch(() => undefined); // the table is created by the load itself
      if (Number(row?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("the load committed nothing within 120 s");
  } finally {
    await warehouse.close();
  }
}

async function dropFeedTables(config: Awaited<ReturnType<typeof testConfig>>): Promise<void> {
  const warehouse = await openWarehouseFromConfig(config);
  try {
    await warehouse.run("SET FOREIGN_KEY_CHECKS = 0");
    for (const table of [...config.feeds.map((f) => f.name), "_LOADER_FILES", "_LOADER_TABLES"]) {
      await warehouse.run(`DROP TABLE IF EXISTS "${table}"`);
    }
  } finally {
    await warehouse.close();
  }
}

/** Every TRANSACTION_ID in the lake's TRANSACTIONS_USD files. */
async function lakeIds(root: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const day of Deno.readDir(`${root}/${USD}`)) {
    const text = await Deno.readTextFile(`${root}/${USD}/${day.name}/${USD}_${day.name}.jsonl`);
    for (const line of text.split("\n")) if (line) ids.add(JSON.parse(line).TRANSACTION_ID);
  }
  return ids;
}
