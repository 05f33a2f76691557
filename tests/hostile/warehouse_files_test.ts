/**
 * Issue 17 item 5 at the warehouse: a SQLite warehouse that is locked by another process, or a
 * file that is not a database, gives one line naming the path (no stack trace) for each command
 * that opens it; the row pages of a 300,000-character key still page; /status without a token
 * shows neither the warehouse's absolute path nor account names in the last job error.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { finishRun, insertRun } from "../../src/scheduler/store.ts";
import { setupApi } from "../routes/fixtures.ts";
import { writePartition } from "../warehouse/lake.ts";

function assertOneLine(out: { code: number; stderr: string }, path: string, cause: RegExp) {
  assert.notEqual(out.code, 0);
  const lines = out.stderr.trim().split("\n");
  assert.equal(lines.length, 1, out.stderr);
  assert.ok(lines[0].includes(path), `names ${path}: ${lines[0]}`);
  assert.match(lines[0], cause);
}

Deno.test("warehouse file that is not a database: one line naming the path, for every command", async () => {
  const config = await testConfig();
  try {
    for (
      const content of [
        "hello, this is text, not SQLite\n".repeat(200),
        new Uint8Array(8192).fill(0xff),
        `SQLite format 3\u0000${"garbage".repeat(1000)}`,
      ]
    ) {
      if (typeof content === "string") await Deno.writeTextFile(config.warehousePath, content);
      else await Deno.writeFile(config.warehousePath, content);
      for (const args of [["load"], ["cleanup", "--dry-run"], ["status"]]) {
        const out = await runMain(args, envOf(config));
        assertOneLine(out, config.warehousePath, /not a database|corrupt|malformed/);
      }
    }
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("a warehouse locked by another process: one line naming the path, no stack trace", async () => {
  const config = await testConfig();
  const db = new DatabaseSync(config.warehousePath);
  try {
    db.exec("CREATE TABLE held (x INTEGER)");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("INSERT INTO held VALUES (1)");
    // Each command waits the busy timeout (10 s), then says who it could not open.
    for (const args of [["load"], ["accounts", "create", "someone"]]) {
      const out = await runMain(args, envOf(config));
      assertOneLine(out, config.warehousePath, /locked/);
    }
  } finally {
    db.exec("ROLLBACK");
    db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

engineTest(
  "rows: a 300,000-character primary key pages (MariaDB: the longest key it stores)",
  async (_t, e) => {
    const api = await setupApi({ env: e.env, loadRows: false });
    // MariaDB keys are VARCHAR(255): a longer key is a rejected line there, never a stored row.
    const size = e.name === "sqlite" ? 300_000 : 255;
    try {
      const huge = (c: string) => c.repeat(size);
      const ids = [huge("a"), huge("b"), `${huge("é").slice(0, size - 1)}z`, "small"];
      await writePartition(
        api.config,
        api.orders,
        "2026-11-20",
        ids.map((id) => ({
          ORDER_ID: id,
          COUNTRY: "X",
          AMOUNT: 1,
          CREATED_AT: "2026-11-20T10:00:00Z",
        })),
      );
      const run = await api.runner.run("load", { trigger: "cli", actor: "test" });
      assert.equal(run.outcome, "ok", run.error ?? "");
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const query: string = cursor ? `&cursor=${cursor}` : "";
        const [status, body] = await api.json(`/feeds/${api.orders}/rows?limit=1${query}`, {
          token: api.tokens.reader,
        });
        assert.equal(status, 200, JSON.stringify(body).slice(0, 300));
        seen.push(...body.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID));
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      assert.deepEqual(seen.map((s) => s.length).sort((a, b) => a - b), [5, size, size, size]);
      assert.deepEqual(seen, [...ids].sort());
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "/status without a token shows neither the warehouse's path nor account names in job errors",
  async (_t, e) => {
    const api = await setupApi({ env: e.env, loadRows: false });
    try {
      const path = api.config.warehousePath;
      const folder = path.slice(0, path.lastIndexOf("/"));
      const error = `Cannot load ${api.orders} into sqlite:${path}: the database is locked; ` +
        `mysql://datalake@127.0.0.1:3306/db: Access denied for user 'datalake'@'127.0.0.1' ` +
        `(using password: YES); lake file ${api.config.dataLakeDir}/${api.orders}/x.jsonl`;
      for (const job of ["load", "pipeline"] as const) {
        const id = await insertRun(api.db, {
          job,
          trigger: "api",
          actor: "reader",
          startedAt: new Date().toISOString(),
        });
        await finishRun(api.db, id, {
          finishedAt: new Date().toISOString(),
          outcome: "error",
          durationMs: 1,
          counts: {},
          error,
        });
      }
      for (const route of ["/status", "/status?format=text", "/status/runs"]) {
        const res = await api.request(route);
        assert.equal(res.status, 200, route);
        const text = await res.text();
        for (const secret of [folder, api.config.dataLakeDir, "datalake", "'reader'", '"reader"']) {
          assert.ok(!text.includes(secret), `${route} shows ${secret}`);
        }
        if (route.includes("format=text")) continue; // the table shows no job errors
        assert.match(text, /the database is locked/, `${route}: the cause is still there`);
        assert.match(text, /data_warehouse\.db/, `${route}: the file's own name is still there`);
      }
      // An admin sees the whole error.
      const res = await api.request("/status", { token: api.tokens.admin });
      assert.ok((await res.text()).includes(folder));
    } finally {
      await api.close();
    }
  },
);
