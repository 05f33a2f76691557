/** `audit-pii`: fails (exit 1) when the lake or the warehouse holds personal data. */
import { existsSync } from "node:fs";
import { DomainError } from "../core/errors.ts";
import { createProgress } from "../core/progress.ts";
import { describeFinding, scanForPii } from "../governance/pii_scan.ts";
import type { Warehouse } from "../warehouse/engine.ts";
import { openWarehouseFromConfig } from "../warehouse/open.ts";
import type { Command } from "./command.ts";

export const auditPiiCommand: Command = {
  summary: "scan lake and warehouse for emails, unmasked IPv4 and raw user ids (exit 1 if any)",
  usage: "audit-pii",
  options: {},
  async run(ctx) {
    // Read-only, and only if it exists: an audit creates nothing.
    const exists = ctx.config.warehouseUrl !== undefined || existsSync(ctx.config.warehousePath);
    const warehouse: Warehouse | undefined = exists
      ? await openWarehouseFromConfig(ctx.config, { readOnly: true })
      : undefined;
    // A line on a terminal only (nothing in pipes and logs); Ctrl-C/SIGTERM stop the scan.
    const progress = createProgress("audit-pii", undefined, "lines");
    try {
      let report;
      try {
        report = await scanForPii({
          lakeDir: ctx.config.dataLakeDir,
          warehouse,
          signal: ctx.signal,
          onProgress: (scanned, location) =>
            progress.update(scanned.lines, `${scanned.files} file(s), ${location}`),
        });
      } catch (error) {
        if (ctx.signal.aborted) {
          throw new DomainError("audit-pii interrupted: the scan is incomplete", { cause: error });
        }
        throw error;
      } finally {
        progress.finish();
      }
      const { files, lines, tables, values } = report.scanned;
      ctx.print(
        `scanned ${files} lake file(s) (${lines} lines) and ${tables} warehouse table(s) ` +
          `(${values} candidate values)`,
      );
      ctx.log.info("pii_scan.done", { files, lines, tables, findings: report.findings.length });
      if (report.findings.length === 0) {
        ctx.print("no personal data found");
        return 0;
      }
      ctx.print(`personal data found in ${report.findings.length} place(s):`);
      for (const finding of report.findings) ctx.print(`  ${describeFinding(finding)}`);
      return 1;
    } finally {
      await warehouse?.close();
    }
  },
};
