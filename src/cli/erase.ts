/**
 * `erase --user ID`: removes one person from the lake and the warehouse, and tombstones their
 * keys in the table topics (governance/erasure). Kafka down: the rest is still erased, and the
 * command exits 1 asking to run it again (erasure is idempotent).
 */
import { UnavailableError, UsageError } from "../core/errors.ts";
import { cliActor } from "../governance/audit.ts";
import { eraseUser } from "../governance/erasure.ts";
import { withGovernance } from "../governance/schema.ts";
import { closeWithin, connectKafka } from "../kafka/connect.ts";
import type { Command } from "./command.ts";

export const eraseCommand: Command = {
  summary: "erase one person (raw user id) from every lake file, warehouse table and table topic",
  usage: "erase --user ID",
  options: { user: { type: "string" } },
  async run(ctx) {
    const userId = ctx.values.user;
    if (typeof userId !== "string" || userId.trim() === "" || ctx.positionals.length > 0) {
      throw new UsageError("usage: erase --user ID");
    }
    const kafka = connectKafka(ctx.config, ctx.log);
    let report;
    try {
      report = await withGovernance(
        ctx.config,
        (warehouse) =>
          eraseUser({
            config: ctx.config,
            warehouse,
            log: ctx.log,
            userId,
            kafka,
            actor: cliActor(),
          }),
      );
    } finally {
      await closeWithin(kafka);
    }
    const { tombstones } = report;
    const tables = Object.entries(report.rows).filter(([, n]) => n > 0);
    ctx.print(
      `erased user ${userId} (pseudonym ${report.subject}…): ${report.lake.lines} lake line(s) ` +
        `from ${report.lake.files} file(s), ${report.totalRows} warehouse row(s), ` +
        `${tombstones.total} Kafka tombstone(s)`,
    );
    for (const f of report.lake.byFile) ctx.print(`  lake  ${f.path}: ${f.lines} line(s)`);
    for (const [table, n] of tables) ctx.print(`  table ${table}: ${n} row(s)`);
    for (const [topic, n] of Object.entries(tombstones.byTopic)) {
      ctx.print(`  kafka ${topic}: ${n} tombstone(s)`);
    }
    if (report.lake.lines === 0 && report.totalRows === 0) {
      ctx.print("nothing held in the lake or warehouse for this user: nothing to erase there");
    }
    if (!tombstones.complete) {
      throw new UnavailableError(
        `Kafka tombstones were NOT sent (${tombstones.error}); lake and warehouse are erased, ` +
          `but the table topics may still hold this person: run erase again with the same ` +
          `--user when Kafka is back (erasure is idempotent)`,
      );
    }
  },
};
