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
    async load({ db, log, signal }) {
      const report = await runLoad({ config, db, log, signal });
      const counts = {
        tables: report.tables.length,
        files_read: 0,
        rows_loaded: 0,
        rows_inserted: 0,
        rows_updated: 0,
        rows_deleted_by_load: 0,
        rows_rejected: 0,
      };
      for (const table of report.tables) {
        counts.files_read += table.files;
        counts.rows_inserted += table.inserted;
        counts.rows_updated += table.updated;
        counts.rows_loaded += table.inserted + table.updated;
        counts.rows_deleted_by_load += table.deleted;
        counts.rows_rejected += table.rejected;
        stats?.addLoaded(table.feed, table.inserted + table.updated, table.rejected);
      }
      if (report.aborted) {
        throw new Error("load was stopped before the end (committed batches stay)");
      }
      return counts;
    },
    async cleanup({ db, log, actor }) {
      const report = await runCleanup({ config, db, log, dryRun: false, actor });
      return {
        partitions_deleted: report.totals.partitions,
        rows_deleted: report.totals.rows,
        bytes_deleted: report.totals.bytes,
      };
    },
  };
}
