/**
 * `load [--feeds A,B]`: loads what the lake gained since the last load into the warehouse and
 * prints one line per table (LOADER_BATCH_ROWS, in the config, fixes the lines per transaction).
 */
import { feedList } from "../config/config.ts";
import { UsageError } from "../core/errors.ts";
import { audit, cliActor } from "../governance/audit.ts";
import { ensureGovernanceSchema } from "../governance/schema.ts";
import { withJobLock } from "../scheduler/lock.ts";
import type { Warehouse } from "../warehouse/engine.ts";
import { openWarehouseFromConfig } from "../warehouse/open.ts";
import { type LoadReport, runLoad, type TableReport, THREAD_BYTES } from "../warehouse/loader.ts";
import type { Command } from "./command.ts";

const SHOWN_REJECTIONS = 10;

export const loadCommand: Command = {
  summary: "load new lake data into the warehouse, SQLite or MariaDB (incremental, idempotent)",
  usage: "load [--feeds A,B]",
  options: { feeds: { type: "string" } },
  async run(ctx) {
    const feeds = typeof ctx.values.feeds === "string" ? feedList(ctx.values.feeds) : undefined;
    if (feeds !== undefined && feeds.length === 0) {
      throw new UsageError(
        "--feeds needs at least one feed name (e.g. --feeds USERS,TRANSACTIONS_USD)",
      );
    }
    const report = await withJobLock(ctx.config, "load", async () => {
      const warehouse = await openWarehouseFromConfig(ctx.config);
      try {
        const report = await runLoad({
          config: ctx.config,
          warehouse,
          log: ctx.log.child({ component: "warehouse" }),
          feeds,
          signal: ctx.signal,
          batchRows: ctx.config.loaderBatchRows,
          threadBytes: THREAD_BYTES,
        });
        await auditRun(warehouse, "ok", {
          aborted: report.aborted,
          ms: report.ms,
          counts: counts(report),
        });
        return report;
      } catch (error) {
        // A full disk fails the audit row too: the load's own error is the one to show.
        await auditRun(warehouse, "error", { error: (error as Error).message }).catch(() => {});
        throw error;
      } finally {
        await warehouse.close();
      }
    });
    const loaded = report.tables.filter((table) => table.files > 0);
    if (loaded.length === 0) {
      ctx.print(`✓ nothing new in the lake (${report.tables.length} feeds checked)`);
    }
    for (const table of loaded) {
      ctx.print(summaryLine(table));
      for (const rejection of table.rejections.slice(0, SHOWN_REJECTIONS)) {
        ctx.print(`  ✗ ${rejection.file}: ${rejection.message}`);
      }
      if (table.rejected > SHOWN_REJECTIONS) {
        ctx.print(`  … ${table.rejected - SHOWN_REJECTIONS} more rejected (see the log)`);
      }
    }
    ctx.print(`load ${report.aborted ? "stopped" : "done"} in ${seconds(report.ms)}`);
    return report.aborted ? 130 : 0;
  },
};

/** `✓ TRANSACTIONS_USD: 1000 inserted, 0 updated, 0 rejected in 4.2 s` (+ deleted / inferred). */
export function summaryLine(table: TableReport): string {
  const extra = [
    table.deleted ? `, ${table.deleted} deleted` : "",
    table.inferred ? `, ${table.inferred} inferred` : "",
  ].join("");
  const mark = table.rejected ? "!" : "✓";
  return `${mark} ${table.feed}: ${table.inserted} inserted, ${table.updated} updated, ` +
    `${table.rejected} rejected${extra} in ${seconds(table.ms)}`;
}

/** The run goes to AUDIT_LOG like the scheduler's runs (action job.load). */
async function auditRun(
  warehouse: Warehouse,
  outcome: "ok" | "error",
  detail: Record<string, unknown>,
): Promise<void> {
  await ensureGovernanceSchema(warehouse);
  await audit(warehouse, {
    actor: cliActor(),
    action: "job.load",
    target: "load",
    outcome,
    detail: { trigger: "cli", ...detail },
  });
}

/** The load's totals as the audit row names them. */
function counts({ totals }: LoadReport): Record<string, number> {
  return {
    files_read: totals.files,
    rows_inserted: totals.inserted,
    rows_updated: totals.updated,
    rows_deleted: totals.deleted,
    rows_rejected: totals.rejected,
    rows_inferred: totals.inferred,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
