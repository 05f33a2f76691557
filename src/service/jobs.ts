/**
 * The two warehouse jobs the runner knows, bound to the loader and to retention, with their
 * reports turned into the counts JOB_RUNS, /status and the pipeline log show.
 */
import type { Config } from "../config/config.ts";
import { runCleanup } from "../governance/retention.ts";
import type { JobSet } from "../scheduler/runner.ts";
import { runLoad } from "../warehouse/loader.ts";
import type { ServiceStats } from "./stats.ts";

export function warehouseJobs(config: Config, stats?: ServiceStats): JobSet {
  return {
    async load({ warehouse, log, signal }) {
      // In a server, a bulk load's index rebuild would be one long transaction: not worth it.
      const report = await runLoad({
        config,
        warehouse,
        log,
        signal,
        bulkBytes: Infinity,
        batchRows: config.loaderBatchRows,
      });
      const { totals } = report;
      const counts = {
        tables: report.tables.length,
        files_read: totals.files,
        rows_loaded: totals.inserted + totals.updated,
        rows_inserted: totals.inserted,
        rows_updated: totals.updated,
        rows_deleted_by_load: totals.deleted,
        rows_rejected: totals.rejected,
      };
      for (const table of report.tables) {
        stats?.addLoaded(table.feed, table.inserted + table.updated, table.rejected);
      }
      if (report.aborted) {
        throw new Error("load was stopped before the end (committed batches stay)");
      }
      return counts;
    },
    async cleanup({ warehouse, log, actor }) {
      const report = await runCleanup({ config, warehouse, log, dryRun: false, actor });
      return {
        partitions_deleted: report.totals.partitions,
        rows_deleted: report.totals.rows,
        bytes_deleted: report.totals.bytes,
      };
    },
  };
}
