/** `cleanup [--days N] [--dry-run]`: retention of the lake and the warehouse (governance/retention). */
import { UsageError } from "../core/errors.ts";
import { cliActor } from "../governance/audit.ts";
import { type CleanupReport, runCleanup } from "../governance/retention.ts";
import { withGovernance } from "../governance/schema.ts";
import { withJobLock } from "../scheduler/lock.ts";
import type { Command } from "./command.ts";

export const cleanupCommand: Command = {
  summary: "delete lake partitions and warehouse rows older than the retention",
  usage: "cleanup [--days N] [--dry-run]",
  options: { days: { type: "string" }, "dry-run": { type: "boolean" } },
  async run(ctx) {
    const days = parseDays(ctx.values.days);
    const dryRun = ctx.values["dry-run"] === true;
    const cleanup = () =>
      withGovernance(
        ctx.config,
        (warehouse) =>
          runCleanup({
            config: ctx.config,
            warehouse,
            log: ctx.log,
            days,
            dryRun,
            actor: cliActor(),
          }),
      );
    // A dry run deletes nothing, so it need not wait for (or block) a running job.
    const report = dryRun ? await cleanup() : await withJobLock(ctx.config, "cleanup", cleanup);
    for (const line of formatCleanup(report)) ctx.print(line);
  },
};

function parseDays(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || !Number.isSafeInteger(days)) {
    throw new UsageError(`--days must be a whole number of days >= 0, got ${String(value)}`);
  }
  return days;
}

/** People-friendly lines: a summary, one row per feed, then exactly which partitions go. */
export function formatCleanup(report: CleanupReport): string[] {
  const verb = report.dryRun ? "would delete" : "deleted";
  const { partitions, rows, bytes, strays } = report.totals;
  const lines = [
    `${report.dryRun ? "cleanup (dry run, nothing deleted)" : "cleanup"} on ${report.today}: ` +
    `${verb} ${partitions} partition(s), ${rows} warehouse row(s), ${formatBytes(bytes)}`,
    "",
    `${"feed".padEnd(32)} ${"keep from".padEnd(10)} ${"partitions".padStart(10)} ${
      "rows".padStart(9)
    } ${"bytes".padStart(10)}`,
  ];
  for (const f of report.feeds) {
    lines.push(
      `${f.feed.padEnd(32)} ${f.keepFrom.padEnd(10)} ${
        String(f.partitions.length + f.rejected.length).padStart(10)
      } ${String(f.rows).padStart(9)} ${formatBytes(f.bytes).padStart(10)}`,
    );
  }
  const gone = report.feeds.flatMap((f) => [...f.partitions, ...f.rejected]);
  if (gone.length > 0) {
    lines.push("", `partitions ${report.dryRun ? "that would be deleted" : "deleted"}:`);
    for (const p of gone) lines.push(`  ${p.path} (${formatBytes(p.bytes)})`);
  }
  if (strays > 0) {
    lines.push("", "left alone (not a date partition):");
    for (const f of report.feeds) for (const s of f.strays) lines.push(`  ${s}`);
  }
  return lines;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
