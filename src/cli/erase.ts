/** `erase --user ID`: removes one person from the lake and the warehouse (governance/erasure). */
import { ValidationError } from "../core/errors.ts";
import { cliActor } from "../governance/audit.ts";
import { eraseUser } from "../governance/erasure.ts";
import { withGovernance } from "../governance/schema.ts";
import type { Command } from "./command.ts";

export const eraseCommand: Command = {
  summary: "erase one person (raw user id) from every lake file and warehouse table",
  usage: "erase --user ID",
  options: { user: { type: "string" } },
  async run(ctx) {
    const userId = ctx.values.user;
    if (typeof userId !== "string" || userId.trim() === "" || ctx.positionals.length > 0) {
      throw new ValidationError("usage: erase --user ID");
    }
    const report = await withGovernance(
      ctx.config.warehousePath,
      (db) => eraseUser({ config: ctx.config, db, log: ctx.log, userId, actor: cliActor() }),
    );
    const tables = Object.entries(report.rows).filter(([, n]) => n > 0);
    ctx.print(
      `erased user ${userId} (pseudonym ${report.subject}…): ${report.lake.lines} lake line(s) ` +
        `from ${report.lake.files} file(s), ${report.totalRows} warehouse row(s)`,
    );
    for (const f of report.lake.byFile) ctx.print(`  lake  ${f.path}: ${f.lines} line(s)`);
    for (const [table, n] of tables) ctx.print(`  table ${table}: ${n} row(s)`);
    if (report.lake.lines === 0 && report.totalRows === 0) {
      ctx.print("nothing held for this user: nothing to erase");
    }
  },
};
