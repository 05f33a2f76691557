/**
 * SQLite's held transaction (Warehouse.runStatements with `hold`, issue 20): a load's adaptive
 * batches share one commit, which never makes anybody else wait. Real SQLite files, two
 * connections as in `serve` (the load's own and the API's).
 */
import assert from "node:assert/strict";
import type { StatementList } from "../../src/warehouse/engine.ts";
import { HOLD_MS, openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";

async function setUp() {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/w.db`;
  const loader = openSqliteWarehouse(path);
  const api = openSqliteWarehouse(path);
  await loader.run(`CREATE TABLE "T" ("ID" INTEGER PRIMARY KEY, "V" TEXT NOT NULL)`);
  await loader.run(`CREATE TABLE "LOG" ("ID" INTEGER PRIMARY KEY AUTOINCREMENT, "WHAT" TEXT)`);
  const count = async () => Number((await api.get(`SELECT COUNT(*) AS n FROM "T"`))?.n);
  const cleanUp = async () => {
    await loader.close();
    await api.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { path, loader, api, count, cleanUp };
}

function* insert(ids: number[], value: string | null = "v"): StatementList<number> {
  for (const id of ids) yield { sql: `INSERT INTO "T" VALUES (?, ?)`, params: [id, value] };
  return ids.length;
}

Deno.test("held transaction: invisible until a write of another connection commits it first", async () => {
  const { loader, api, count, cleanUp } = await setUp();
  try {
    await loader.runStatements(() => insert([1, 2]), { hold: true });
    await loader.runStatements(() => insert([3]), { hold: true });
    assert.equal(await count(), 0, "readers see the last commit (a WAL snapshot)");
    // The API's audit-style write: answered at once, after the held rows committed.
    await api.run(`INSERT INTO "LOG" ("WHAT") VALUES ('api.call')`);
    assert.equal(await count(), 3);
    // A transaction of the API's connection does the same.
    await loader.runStatements(() => insert([4]), { hold: true });
    await api.transaction((tx) => tx.run(`INSERT INTO "LOG" ("WHAT") VALUES ('job')`));
    assert.equal(await count(), 4);
  } finally {
    await cleanUp();
  }
});

Deno.test("held transaction: a list without hold, the timer, or close commits it", async () => {
  const { path, loader, count, cleanUp } = await setUp();
  try {
    await loader.runStatements(() => insert([1]), { hold: true });
    await loader.runStatements(() => insert([2]));
    assert.equal(await count(), 2, "the last batch commits the held ones with it");

    await loader.runStatements(() => insert([3]), { hold: true });
    const deadline = Date.now() + HOLD_MS * 10;
    while ((await count()) < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await count(), 3, "committed by the timer");

    const other = openSqliteWarehouse(path);
    await other.runStatements(() => insert([4]), { hold: true });
    await other.close();
    assert.equal(await count(), 4, "committed by close");
  } finally {
    await cleanUp();
  }
});

Deno.test("held transaction: a failing list rolls back the held ones too; none was committed", async () => {
  const { loader, count, cleanUp } = await setUp();
  try {
    await loader.runStatements(() => insert([1]));
    await loader.runStatements(() => insert([2, 3]), { hold: true });
    // Row 5 breaks NOT NULL after row 4 went in: the list fails, and the held 2 and 3 with it.
    await assert.rejects(
      loader.runStatements(function* () {
        yield* insert([4]);
        return yield* insert([5], null);
      }, { hold: true }),
      /NOT NULL/,
    );
    assert.equal(await count(), 1);
    await loader.runStatements(() => insert([6]), { hold: true });
    await loader.runStatements(() => insert([7]));
    const ids = await loader.all(`SELECT "ID" FROM "T" ORDER BY "ID"`);
    assert.deepEqual(ids.map((r) => r.ID), [1, 6, 7]);
  } finally {
    await cleanUp();
  }
});
