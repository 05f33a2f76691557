/** The commands of src/cli; app/commands.ts adds `serve` (it needs the API from routes/). */
import { accountsCommand } from "./accounts.ts";
import { auditPiiCommand } from "./audit_pii.ts";
import { cleanupCommand } from "./cleanup.ts";
import type { Command } from "./command.ts";
import { consumeCommand } from "./consume.ts";
import { eraseCommand } from "./erase.ts";
import { loadCommand } from "./load.ts";
import { permissionsCommand } from "./permissions.ts";
import { processCommand } from "./process.ts";
import { produceCommand } from "./produce.ts";
import { statusCommand } from "./status.ts";

export const CLI_COMMANDS: Record<string, Command> = {
  consume: consumeCommand,
  process: processCommand,
  produce: produceCommand,
  load: loadCommand,
  cleanup: cleanupCommand,
  accounts: accountsCommand,
  permissions: permissionsCommand,
  erase: eraseCommand,
  status: statusCommand,
  "audit-pii": auditPiiCommand,
};
