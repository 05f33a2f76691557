/**
 * The load's fast paths on both engines (issue 20): MariaDB's rows go in by LOAD DATA LOCAL
 * INFILE from a file the loader writes (load_data.ts), SQLite's adaptive batches share their
 * commits. What must not change: every value comes back exactly as it was in the lake, inserts
 * and updates are counted exactly, and a row the server refuses is that line's rejection.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { Warehouse } from "../../src/warehouse/engine.ts";
import { type LoadReport, runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { testConfig } from "../helpers/env.ts";
import { tableOf, txn, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";

async function loadInto(config: Config, w: Warehouse, batchRows?: number): Promise<LoadReport> {
  return await runLoad({ config, warehouse: w, log: silentLogger, feeds: [USD], batchRows });
}

/** Texts the LOAD DATA file must escape, or that look like its escapes. */
const TEXTS = [
  "tab\there",
  "line\nbreak",
  "carriage\rreturn",
  "back\\slash",
  "\\N",
  "\\t not a tab",
  "ends with a backslash\\",
  "",
  " padded ",
  "quote \" and ' both",
  "naïve café – ☕ 𝄞 日本",
];

engineTest("bulk path: every text, number and NULL comes back exactly", async (_t, e) => {
  const config = await testConfig({ env: e.env });
  const w = await openWarehouseFromConfig(config);
  try {
    const texts = w.dialect.keepsNul ? [...TEXTS, "nul\0inside"] : TEXTS;
    const amounts = [0, -1, 12.5, 0.1 + 0.2, 1e-7, 123456789.123, -(2 ** 40) - 0.5, 5e-324, 1e15];
    const lines = [
      ...texts.map((city) => txn("u1", { CITY: city })),
      ...amounts.map((amount) => txn("u2", { AMOUNT: amount })),
      txn("u3", { CITY: null, AMOUNT: null }),
    ];
    await writePartition(config, USD, "2026-11-20", lines);
    const report = tableOf(await loadInto(config, w), USD);
    assert.deepEqual([report.inserted, report.updated, report.rejected], [lines.length, 0, 0]);
    for (const line of lines) {
      const row = await w.get(`SELECT "CITY", "AMOUNT" FROM "${USD}" WHERE TRANSACTION_ID = ?`, [
        String(line.TRANSACTION_ID),
      ]);
      assert.deepEqual(
        { ...row },
        { CITY: line.CITY, AMOUNT: line.AMOUNT },
        String(line.TRANSACTION_ID),
      );
    }
  } finally {
    await w.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

engineTest(
  "bulk path: a key repeated in one batch and keys already loaded are updates, counted exactly",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const w = await openWarehouseFromConfig(config);
    try {
      const first = Array.from({ length: 6 }, (_, i) => txn(`u${i % 2}`));
      await writePartition(config, USD, "2026-11-20", first);
      assert.deepEqual(
        pick(tableOf(await loadInto(config, w), USD)),
        [6, 0, 0],
      );
      // A second file: two keys of the first file (one of them twice), two new keys (one twice).
      const fresh = [txn("u1"), txn("u2")];
      const second = [
        { ...first[0], AMOUNT: 1 },
        fresh[0],
        { ...first[1], AMOUNT: 2 },
        { ...first[0], AMOUNT: 3 },
        fresh[1],
        { ...fresh[0], AMOUNT: 4 },
      ];
      await writePartition(config, USD, "2026-11-21", second);
      assert.deepEqual(pick(tableOf(await loadInto(config, w), USD)), [2, 4, 0]);
      const amounts = await w.all(
        `SELECT TRANSACTION_ID, AMOUNT FROM "${USD}" WHERE TRANSACTION_ID IN (?, ?, ?)`,
        [first[0], first[1], fresh[0]].map((r) => String(r.TRANSACTION_ID)),
      );
      assert.deepEqual(
        new Map(amounts.map((r) => [r.TRANSACTION_ID, r.AMOUNT])),
        new Map([
          [first[0].TRANSACTION_ID, 3],
          [first[1].TRANSACTION_ID, 2],
          [fresh[0].TRANSACTION_ID, 4],
        ]),
        "the last line of a key wins",
      );
      const count = await w.get(`SELECT COUNT(*) AS n FROM "${USD}"`);
      assert.equal(Number(count?.n), 8);
    } finally {
      await w.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "bulk path: a row the engine refuses is its line's rejection; the batch's other rows load",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const w = await openWarehouseFromConfig(config);
    try {
      // A key longer than MariaDB's key columns (VARCHAR(255)); SQLite's TEXT keys take it.
      const long = txn("u1", { TRANSACTION_ID: `TXN-${"x".repeat(300)}` });
      const lines = [txn("u1"), long, txn("u2"), txn("u1")];
      await writePartition(config, USD, "2026-11-20", lines);
      const report = tableOf(await loadInto(config, w), USD);
      const refused = w.dialect.engine === "mysql";
      assert.deepEqual(pick(report), refused ? [3, 0, 1] : [4, 0, 0]);
      if (refused) {
        const [rejection] = report.rejections;
        assert.equal(rejection.line, 2);
        assert.match(rejection.message, /^Cannot load TRANSACTIONS_USD: .*\(line 2\)$/);
      }
      const count = await w.get(`SELECT COUNT(*) AS n FROM "${USD}"`);
      assert.equal(Number(count?.n), refused ? 3 : 4);
    } finally {
      await w.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

function pick(report: { inserted: number; updated: number; rejected: number }) {
  return [report.inserted, report.updated, report.rejected];
}
