/** `accounts create NAME | disable NAME | list`: API accounts (governance/accounts). */
import { UsageError } from "../core/errors.ts";
import { createAccount, disableAccount, listAccounts } from "../governance/accounts.ts";
import { cliActor } from "../governance/audit.ts";
import { permissionsOf } from "../governance/permissions.ts";
import { withGovernance } from "../governance/schema.ts";
import type { Command } from "./command.ts";

const USAGE = "accounts create NAME | disable NAME | list";

export const accountsCommand: Command = {
  summary: "create (prints its token once), disable or list API accounts",
  usage: USAGE,
  options: {},
  run(ctx) {
    const [sub, name, ...extra] = ctx.positionals;
    const needsName = sub === "create" || sub === "disable";
    if (
      extra.length > 0 || (needsName && !name) || (sub === "list" && name) ||
      !["create", "disable", "list"].includes(sub)
    ) {
      throw new UsageError(`usage: ${USAGE}`);
    }
    return withGovernance(ctx.config, async (db) => {
      if (sub === "create") {
        const { account, token } = await createAccount(db, name, cliActor());
        ctx.print(`created account ${account.name} (no permissions yet)`);
        ctx.print(`token: ${token}`);
        ctx.print("This token is shown once and stored only as a hash: keep it now.");
        ctx.print(
          `Grant access with: permissions grant ${account.name} <FEED|*> <read|write|admin>`,
        );
      } else if (sub === "disable") {
        const account = await disableAccount(db, name, cliActor());
        ctx.print(`account ${account.name} disabled since ${account.disabledAt}`);
      } else {
        const accounts = await listAccounts(db);
        if (accounts.length === 0) ctx.print("no accounts yet (accounts create NAME)");
        for (const a of accounts) {
          const grants = a.disabledAt
            ? `disabled ${a.disabledAt}`
            : (await permissionsOf(db, a.id)).map((p) => `${p.topic}:${p.level}`).join(" ") ||
              "no permissions";
          ctx.print(`${a.name.padEnd(24)} created ${a.createdAt}  ${grants}`);
        }
      }
    });
  },
};
