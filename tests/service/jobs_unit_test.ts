/** serve's scheduled jobs (src/service/jobs.ts) honour the loader settings of the config. */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { warehouseJobs } from "../../src/service/jobs.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";
import { testConfig } from "../helpers/env.ts";
import { count, txn, writePartition } from "../warehouse/lake.ts";

const USD = "TRANSACTIONS_USD";

for (const batchRows of [1, 3, 7]) {
  Deno.test(`scheduled load: LOADER_BATCH_ROWS=${batchRows} fixes the lines per transaction`, async () => {
    const config = await testConfig({ env: { LOADER_BATCH_ROWS: String(batchRows) } });
    assert.equal(config.loaderBatchRows, batchRows);
    await writePartition(config, USD, "2026-11-20", Array.from({ length: 10 }, () => txn("u1")));
    const events: Record<string, unknown>[] = [];
    const log = new Logger({
      level: "debug",
      sink: { write: (line) => events.push(JSON.parse(line)) },
    });
    const warehouse = openSqliteWarehouse(config.warehousePath);
    try {
      const ctx = { warehouse, log, actor: "scheduler", signal: new AbortController().signal };
      const counts = await warehouseJobs(config).load(ctx);
      assert.equal(counts.rows_inserted, 10);
      assert.equal(count(config, USD), 10);
    } finally {
      await warehouse.close();
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
    const batches = events.filter((e) => e.event === "warehouse.batch_committed" && e.feed === USD);
    // Full batches, then the rest (a file's end may add a batch of no lines that marks it done).
    const sizes = batches.map((e) => e.lines as number).filter((lines) => lines > 0);
    const full = Math.floor(10 / batchRows);
    const expected = [...Array(full).fill(batchRows), ...(10 % batchRows ? [10 % batchRows] : [])];
    assert.deepEqual(sizes, expected);
  });
}
