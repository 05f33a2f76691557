/** `permissions grant NAME TOPIC LEVEL | revoke NAME TOPIC | list` (governance/permissions). */
import { UsageError } from "../core/errors.ts";
import { cliActor } from "../governance/audit.ts";
import { grant, listPermissions, revoke } from "../governance/permissions.ts";
import { withGovernance } from "../governance/schema.ts";
import type { Command } from "./command.ts";

const USAGE = "permissions grant NAME TOPIC LEVEL | revoke NAME TOPIC | list";

export const permissionsCommand: Command = {
  summary: "grant or revoke read|write|admin on a feed or * to an account, or list grants",
  usage: USAGE,
  options: {},
  run(ctx) {
    const [sub, ...args] = ctx.positionals;
    const arity: Record<string, number> = { grant: 3, revoke: 2, list: 0 };
    if (!(sub in arity) || args.length !== arity[sub]) {
      throw new UsageError(`usage: ${USAGE}`);
    }
    return withGovernance(ctx.config, async (db) => {
      if (sub === "grant") {
        const [name, topic, level] = args;
        const result = await grant(db, ctx.config, name, topic, level, cliActor());
        ctx.print(
          result.previous === null
            ? `granted ${result.level} on ${topic} to ${name}`
            : `${name} on ${topic}: ${result.previous} → ${result.level}`,
        );
      } else if (sub === "revoke") {
        const [name, topic] = args;
        const result = await revoke(db, name, topic, cliActor());
        ctx.print(`revoked ${result.level} on ${topic} from ${name}`);
      } else {
        const rows = await listPermissions(db);
        if (rows.length === 0) ctx.print("no permissions granted yet");
        else {
          ctx.print(
            `${"account".padEnd(24)} ${"topic".padEnd(32)} ${"level".padEnd(6)} granted by`,
          );
        }
        for (const p of rows) {
          ctx.print(
            `${p.account.padEnd(24)} ${p.topic.padEnd(32)} ${p.level.padEnd(6)} ${p.grantedBy} ` +
              `at ${p.grantedAt}`,
          );
        }
      }
    });
  },
};
