/**
 * The lake read on a thread of its own (load/read_thread.ts, issue 20): a load whose lake is read,
 * parsed and checked on a Worker gives exactly the rows, counts and per-line rejections of the
 * in-thread reader, on both engines; a reader that fails mid-load is the load's typed error and
 * the next load does exactly what was not committed; the event loop turns between batches.
 */
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import type { Config } from "../../src/config/config.ts";
import { DataError, StorageError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { Progress } from "../../src/core/progress.ts";
import { runLoad } from "../../src/warehouse/loader.ts";
import { fromWire, toWire } from "../../src/warehouse/load/wire.ts";
import { engineTest, openEngineWarehouse } from "../helpers/engines.ts";
import { testConfig } from "../helpers/env.ts";
import { count, load, tableOf, txn, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";
const ON_THREAD = { threadBytes: 0 };
const IN_THREAD = { threadBytes: Infinity };

/** Lines with one bad line of each kind the validator names, at known line numbers. */
function mixedLines(users: number): (Record<string, unknown> | string)[] {
  const lines: (Record<string, unknown> | string)[] = [];
  for (let i = 0; i < 300; i++) lines.push(txn(`u${i % users}`));
  lines[11] = txn("u1", { AMOUNT: "twelve" }); // line 12
  lines[40] = "{not json"; // line 41
  lines[99] = txn("u2", { TRANSACTION_ID: null }); // line 100
  lines[150] = "[1, 2]"; // line 151
  lines[201] = txn("u3", { CITY: 7 }); // line 202
  return lines;
}

async function loadWith(config: Config, options: Record<string, unknown>) {
  const warehouse = await openEngineWarehouse(config);
  try {
    return await runLoad({ config, warehouse, log: silentLogger, batchRows: 64, ...options });
  } finally {
    await warehouse.close();
  }
}

async function tableRows(config: Config) {
  const warehouse = await openEngineWarehouse(config);
  try {
    return await warehouse.all(
      `SELECT TRANSACTION_ID, USER_ID_HASHED, AMOUNT, _SOURCE_FILE, _SOURCE_LINE FROM ${USD} ` +
        `ORDER BY TRANSACTION_ID`,
    );
  } finally {
    await warehouse.close();
  }
}

// Each way of reading in a database of its own (engineTest), with the same expectations.
for (const [where, options] of [["on its thread", ON_THREAD], ["in-thread", IN_THREAD]] as const) {
  engineTest(
    `reader ${where}: every good line once, each bad one named with its line`,
    async (_t, engine) => {
      const config = await testConfig({ env: engine.env });
      const lines = mixedLines(7);
      const second = lines.slice(0, 50).map((l) =>
        typeof l === "string" ? l : { ...l, TRANSACTION_ID: `${l.TRANSACTION_ID}-b` }
      );
      await writePartition(config, USD, "2026-11-20", lines);
      await writePartition(config, USD, "2026-11-21", second);
      const table = tableOf(await loadWith(config, options), USD);
      const rows = await tableRows(config);
      const good = [...lines, ...second].filter((l) => typeof l !== "string") as Record<
        string,
        unknown
      >[];
      const expected = good.filter((l) =>
        l.TRANSACTION_ID !== null && typeof l.AMOUNT === "number" && typeof l.CITY === "string"
      ).map((l) => l.TRANSACTION_ID).sort();
      assert.equal(expected.length, 295 + 48);
      assert.deepEqual(rows.map((r) => r.TRANSACTION_ID), expected);
      assert.deepEqual([table.inserted, table.updated, table.inferred], [343, 0, 7]);
      assert.equal(table.rejected, 7);
      assert.deepEqual(
        table.rejections.filter((r) => r.file.includes("11-20")).map((r) => r.message),
        [
          `Cannot load ${USD}: column AMOUNT is not a number (line 12)`,
          `Cannot load ${USD}: line is not valid JSON (line 41)`,
          `Cannot load ${USD}: primary key TRANSACTION_ID is missing (line 100)`,
          `Cannot load ${USD}: line is not a JSON object (line 151)`,
          `Cannot load ${USD}: column CITY is not text (line 202)`,
        ],
      );
      assert.deepEqual(
        table.rejections.filter((r) => r.file.includes("11-21")).map((r) => r.line),
        [12, 41],
      );
      const again = await loadWith(config, options);
      assert.equal(again.totals.inserted + again.totals.updated, 0, "a reload changes nothing");
      assert.deepEqual(await tableRows(config), rows);
    },
  );

  engineTest(
    `reader ${where}: a file gone mid-load fails the load; the next load finishes it exactly once`,
    async (_t, engine) => {
      const config = await testConfig({ env: engine.env });
      const first = Array.from({ length: 1000 }, () => txn("u1"));
      const second = Array.from({ length: 10 }, () => txn("u2"));
      await writePartition(config, USD, "2026-11-20", first);
      const gone = await writePartition(config, USD, "2026-11-21", second);
      // After the first batch is written, the second file goes (the reader is a few batches
      // ahead, still in the first file): opening it fails when the reader gets there.
      let removed = false;
      const progress = (): Progress => ({
        update() {
          if (!removed) Deno.removeSync(gone);
          removed = true;
        },
        finish() {},
      });
      const error = await loadWith(config, { ...options, progress }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(error instanceof DataError, `a DataError, not ${error}`);
      assert.match(
        error.message,
        new RegExp(`^Cannot load ${USD}: No such file: .*_2026-11-21\\.jsonl$`),
      );
      const loaded = (await tableRows(config)).length;
      assert.ok(loaded >= 64 && loaded <= 1000, `the committed batches stay (${loaded})`);

      await writePartition(config, USD, "2026-11-21", second);
      const report = await loadWith(config, options);
      assert.equal(report.totals.rejected, 0);
      const rows = await tableRows(config);
      assert.equal(rows.length, 1010, "every line exactly once");
      assert.equal(new Set(rows.map((r) => r.TRANSACTION_ID)).size, 1010);
    },
  );
}

Deno.test("reader thread: the event loop turns between every two batches of a load", async () => {
  const config = await testConfig();
  await writePartition(
    config,
    USD,
    "2026-11-20",
    Array.from({ length: 3000 }, (_, i) => txn(`u${i % 50}`)),
  );
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  const seen: number[] = [];
  const progress = (): Progress => ({ update: () => void seen.push(turns), finish() {} });
  try {
    const report = await load(config, { ...ON_THREAD, progress });
    assert.equal(report.totals.inserted, 3000);
  } finally {
    running = false;
  }
  assert.ok(seen.length >= 3, `several batches (${seen.length})`);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i] > seen[i - 1], `a turn of the loop between batches ${i} and ${i + 1}`);
  }
});

Deno.test("reader thread: an error crosses the thread as its own class, with its cause and code", () => {
  const os = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
  os.name = "Error";
  const storage = new StorageError("Cannot load X: cannot read the lake: the disk is full", {
    cause: os,
  });
  const copy = fromWire(structuredClone(toWire(storage)));
  assert.ok(copy instanceof StorageError);
  assert.equal(copy.message, storage.message);
  assert.equal((copy.cause as Error).message, os.message);
  assert.equal((copy.cause as { code?: string }).code, "ENOSPC");

  const notFound = new Deno.errors.NotFound("No such file or directory (os error 2)");
  const plain = fromWire(structuredClone(toWire(notFound)));
  assert.ok(!(plain instanceof DataError));
  assert.equal(plain.name, "NotFound");
  assert.equal(plain.message, notFound.message);

  const data = fromWire(structuredClone(toWire(new DataError("Cannot load X: bad"))));
  assert.ok(data instanceof DataError);
});

Deno.test("reader thread: an abort stops the load between batches and the thread with it; the next load finishes", async () => {
  const config = await testConfig();
  await writePartition(config, USD, "2026-11-20", Array.from({ length: 500 }, () => txn("u1")));
  const controller = new AbortController();
  let committed = 0;
  const report = await load(config, {
    ...ON_THREAD,
    batchRows: 50,
    signal: controller.signal,
    progress: () => ({
      update: () => {
        committed++;
        controller.abort();
      },
      finish() {},
    }),
  });
  assert.equal(report.aborted, true);
  assert.equal(committed, 1);
  assert.equal(count(config, USD), 50);
  const rest = tableOf(await load(config, { ...ON_THREAD, batchRows: 50 }), USD);
  assert.deepEqual([rest.inserted, rest.updated], [450, 0]);
  assert.equal(count(config, USD), 500);
});
