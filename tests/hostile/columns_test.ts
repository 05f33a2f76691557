/**
 * Issue 17 item 1 at the warehouse, on both engines: a field that cannot become a column (names
 * equal but for case, a name longer than the warehouse's 64-character limit, more columns or a
 * wider row than the engine allows) is a rejected line with its reason, never a failed batch;
 * the table gets no half-added columns and later loads go on. Declarations that could never be
 * tables are refused at start with one line.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { Warehouse } from "../../src/warehouse/engine.ts";
import { type LoadReport, runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, tempDir, testConfig, uniqueName } from "../helpers/env.ts";
import { tableOf, writePartition } from "../warehouse/lake.ts";
import { feedsFile } from "./_helpers.ts";

const DAY = "2026-11-20";

/** A config with one stream feed of its own (FEEDS_FILE in its own folder, removed with it). */
async function streamConfig(env: Record<string, string>, extra: Record<string, unknown> = {}) {
  const name = uniqueName("HC");
  const dir = await tempDir("hostile-columns-");
  const file = await feedsFile(dir, [
    { name, kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT" }, ...extra },
  ]);
  const config = await testConfig({ env: { ...env, FEEDS_FILE: file } });
  return { name, config, cleanup: () => removeAll(config.root, dir) };
}

async function removeAll(...dirs: string[]): Promise<void> {
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
}

async function loadFeed(config: Config, w: Warehouse, feed: string): Promise<LoadReport> {
  return await runLoad({ config, warehouse: w, log: silentLogger, feeds: [feed] });
}

async function columnsOf(w: Warehouse, table: string): Promise<string[]> {
  return (await w.dialect.columns(w, table)).map((c) => c.name);
}

async function ids(w: Warehouse, table: string): Promise<string[]> {
  return (await w.all(`SELECT "ID" FROM "${table}" ORDER BY "ID"`)).map((r) => String(r.ID));
}

engineTest(
  "columns: names equal but for case are rejected lines, in one record and across loads",
  async (_t, e) => {
    const { name, config, cleanup } = await streamConfig(e.env);
    const w = await openWarehouseFromConfig(config);
    try {
      await writePartition(config, name, DAY, [
        { ID: "A1", Nick: "x" },
        { ID: "A2", Nick: "x", NICK: "y" }, // both new, in one record
        { ID: "A3", nick: "z" }, // against a column added two lines before
        { ID: "A4", id: "lower" }, // against a declared column
        { ID: "A5", Name: "n", nAME: "m", NAME: "o" },
        { ID: "A6", Nick: "ok" },
      ]);
      const report = tableOf(await loadFeed(config, w, name), name);
      assert.equal(report.inserted, 2, JSON.stringify(report.rejections));
      assert.equal(report.rejected, 4);
      const reasons = report.rejections.map((r) => `${r.line}: ${r.reason}`);
      assert.match(reasons[0], /^2: field NICK .*another case/);
      assert.match(reasons[1], /^3: field nick .*another case/);
      assert.match(reasons[2], /^4: field id .*another case/);
      assert.match(reasons[3], /^5: field (nAME|NAME) .*another case/);
      assert.deepEqual(await ids(w, name), ["A1", "A6"]);
      const upper = (await columnsOf(w, name)).map((c) => c.toUpperCase());
      assert.equal(upper.filter((c) => c === "NICK").length, 1, "one NICK column");
      assert.ok(!upper.includes("NAME"), "no column from a rejected line");
    } finally {
      await w.close();
      await cleanup();
    }
  },
);

engineTest(
  "columns: a field name longer than 64 characters is a rejected line, on either engine",
  async (_t, e) => {
    const { name, config, cleanup } = await streamConfig(e.env);
    const w = await openWarehouseFromConfig(config);
    try {
      const at64 = `F${"x".repeat(63)}`;
      const at65 = `G${"x".repeat(64)}`;
      const at128 = `H${"y".repeat(127)}`;
      await writePartition(config, name, DAY, [
        { ID: "L1", [at64]: 1 },
        { ID: "L2", [at65]: 1 },
        { ID: "L3", [at128]: "x" },
        { ID: "L4", OK: "fine" },
      ]);
      const report = tableOf(await loadFeed(config, w, name), name);
      assert.equal(report.inserted, 2, JSON.stringify(report.rejections));
      assert.deepEqual(report.rejections.map((r) => r.line), [2, 3]);
      for (const r of report.rejections) assert.match(r.reason, /longer than 64 characters/);
      assert.deepEqual(await ids(w, name), ["L1", "L4"]);
      assert.ok((await columnsOf(w, name)).includes(at64));
    } finally {
      await w.close();
      await cleanup();
    }
  },
);

engineTest(
  "columns: a stream that keeps adding fields stops at the engine's column limits with rejected lines; nothing half-added",
  async (_t, e) => {
    const { name, config, cleanup } = await streamConfig(e.env);
    const w = await openWarehouseFromConfig(config);
    try {
      // SQLite: 2,000 columns; MariaDB/InnoDB: the row size (8,126 bytes) comes first.
      const fields = e.name === "sqlite" ? 2100 : 450;
      const lines: Record<string, unknown>[] = [];
      for (let i = 0; i < fields; i += 10) {
        const record: Record<string, unknown> = { ID: `R${String(i).padStart(5, "0")}` };
        for (let j = i; j < i + 10; j++) record[`C${j}`] = j % 3 === 0 ? j : `text ${j}`;
        lines.push(record);
      }
      // One line with many new fields at once, past the limit too.
      const wide: Record<string, unknown> = { ID: "WIDE" };
      for (let j = 0; j < fields; j++) wide[`W${j}`] = "w";
      lines.push(wide, { ID: "LATE", C0: 7 });
      await writePartition(config, name, DAY, lines);
      const report = tableOf(await loadFeed(config, w, name), name);
      assert.ok(report.rejected > 0, "some lines are past the limit");
      assert.ok(report.inserted > 10, `most lines fit: ${report.inserted}`);
      for (const r of report.rejections) {
        assert.match(
          r.reason,
          /cannot be a column: the table would have more than|row would be wider/,
        );
      }
      assert.ok(report.rejections.some((r) => r.line === lines.length - 1), "the wide line");
      const columns = await columnsOf(w, name);
      const stored = await ids(w, name);
      assert.ok(stored.includes("LATE"), "a line that fits after the limit still loads");
      // Every column there belongs to a line that was loaded: nothing half-added.
      const loaded = new Set(stored);
      const expected = lines.filter((l) => loaded.has(String(l.ID))).flatMap((l) => Object.keys(l));
      assert.deepEqual(
        columns.filter((c) => !c.startsWith("_")).sort(),
        [...new Set(expected)].sort(),
      );

      // The next load goes on: more lines, a new field that still fits after no more room.
      await writePartition(config, name, "2026-11-21", [{ ID: "NEXT", C1: "text" }]);
      const next = tableOf(await loadFeed(config, w, name), name);
      assert.equal(next.inserted, 1, JSON.stringify(next.rejections));
    } finally {
      await w.close();
      await cleanup();
    }
  },
);

engineTest(
  "columns: declarations that could never be tables are refused at start with one line",
  async (_t, e) => {
    const long = `N${"X".repeat(64)}`;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ columns: { ID: "TEXT", Nick: "TEXT", NICK: "TEXT" } }, /NICK.*Nick|Nick.*NICK/],
      [{ primaryKey: ["id"], columns: { ID: "TEXT" } }, /"?ID"?.*"?id"?|"?id"?.*"?ID"?/],
      [{ timeField: "At", columns: { ID: "TEXT", AT: "TEXT" } }, /AT.*At|At.*AT/],
      [{ name: long }, /longer than 64 characters/],
      [{ columns: { ID: "TEXT", [`c${"x".repeat(64)}`]: "TEXT" } }, /longer than 64 characters/],
      [{ primaryKey: [`K${"x".repeat(64)}`] }, /longer than 64 characters/],
    ];
    for (const [override, reason] of cases) {
      const dir = await tempDir("hostile-config-");
      try {
        const file = await feedsFile(dir, [
          { name: uniqueName("HD"), kind: "stream", primaryKey: ["ID"], ...override },
        ]);
        const config = await testConfig({ env: e.env });
        try {
          const out = await runMain(["load"], { ...envOf(config), ...e.env, FEEDS_FILE: file });
          assert.notEqual(out.code, 0, JSON.stringify(override));
          const lines = out.stderr.trim().split("\n");
          assert.equal(lines.length, 1, out.stderr);
          assert.match(lines[0], reason);
          assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack trace");
        } finally {
          await Deno.remove(config.root, { recursive: true });
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
);

engineTest(
  "columns: a 64-character feed with a 64-character foreign key loads (index names fit)",
  async (_t, e) => {
    const fact = `F${"A".repeat(63)}`;
    const dim = `D${"B".repeat(63)}`;
    const fkColumn = `K${"k".repeat(63)}`;
    const dir = await tempDir("hostile-long-");
    const file = await feedsFile(dir, [
      { name: dim, kind: "table", primaryKey: ["ID"] },
      {
        name: fact,
        kind: "stream",
        primaryKey: ["ID"],
        foreignKeys: [{ column: fkColumn, references: dim }],
      },
    ]);
    const config = await testConfig({ env: { ...e.env, FEEDS_FILE: file } });
    const w = await openWarehouseFromConfig(config);
    try {
      await writePartition(config, fact, DAY, [{ ID: "1", [fkColumn]: "d1" }]);
      const report = tableOf(
        await runLoad({ config, warehouse: w, log: silentLogger, feeds: [dim, fact] }),
        fact,
      );
      assert.deepEqual([report.inserted, report.inferred], [1, 1]);
    } finally {
      await w.close();
      await removeAll(config.root, dir);
    }
  },
);
