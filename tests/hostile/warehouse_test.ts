/**
 * Issue 10 items 2, 3 and 6 at the warehouse: lake lines whose fields are SQLite rowid aliases,
 * prototype names or lineage columns never become columns (the line is rejected with a reason),
 * huge numbers are rejected, and `load` counts new rows as inserts, not updates.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { envOf, runMain, testConfig, uniqueName } from "../helpers/env.ts";
import { feedsFile } from "./_helpers.ts";

Deno.test("load: rowid, oid, _rowid_, prototype and lineage names are rejected, never columns; rows stay countable", async () => {
  const name = uniqueName("HW_STREAM");
  const config = await testConfig();
  const file = await feedsFile(config.root, [
    { name, kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT", N: "REAL" } },
  ]);
  const env = { ...envOf(config), FEEDS_FILE: file };
  const dir = `${config.dataLakeDir}/${name}/2026-11-20`;
  const path = `${dir}/${name}_2026-11-20.jsonl`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    const bad: Record<string, unknown>[] = [
      { ID: "B1", rowid: 1 },
      { ID: "B2", OID: 1 },
      { ID: "B3", _rowid_: 1 },
      { ID: "B4", constructor: "jane@example.org" },
      { ID: "B5", valueOf: 1 },
      { ID: "B6", _LOADED_AT: "x" },
      { ID: "B7", N: 1e303 },
      { ID: "B8", EXTRA: -1e16 },
    ];
    const good = Array.from({ length: 6 }, (_, i) => ({ ID: `G${i}`, N: i, FLAG: i % 2 === 0 }));
    const lines: Record<string, unknown>[] = good.flatMap((g, i) => bad[i] ? [g, bad[i]] : [g])
      .concat(bad.slice(good.length));
    await Deno.writeTextFile(path, lines.map((l) => JSON.stringify(l) + "\n").join(""));

    const first = await runMain(["load", "--feeds", name], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${name}: 6 inserted, 0 updated, 8 rejected`));
    for (const reason of [/"rowid" cannot be a column name/, /"OID" cannot be a column name/]) {
      assert.match(first.stdout, reason);
    }

    // More rows later are inserts, and every row is there to read.
    const more = Array.from({ length: 4 }, (_, i) => ({ ID: `M${i}`, N: 10 + i }));
    await Deno.writeTextFile(path, more.map((l) => JSON.stringify(l) + "\n").join(""), {
      append: true,
    });
    const second = await runMain(["load", "--feeds", name], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`${name}: 4 inserted, 0 updated`));

    const db = new DatabaseSync(config.warehousePath, { readOnly: true });
    try {
      const columns = db.prepare(`SELECT name FROM pragma_table_info('${name}')`).all().map((r) =>
        String(r.name).toUpperCase()
      );
      for (const reserved of ["ROWID", "OID", "_ROWID_", "CONSTRUCTOR", "VALUEOF", "EXTRA"]) {
        assert.ok(!columns.includes(reserved), `no column ${reserved}: ${columns}`);
      }
      const count = db.prepare(`SELECT count(*) AS n FROM "${name}"`).get()!.n;
      assert.equal(count, 10);
      const flags = db.prepare(`SELECT FLAG FROM "${name}" WHERE ID = 'G0'`).get()!.FLAG;
      assert.equal(flags, 1, "a boolean is stored as 1");
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(config.root, { recursive: true }).catch(() => {});
  }
});
