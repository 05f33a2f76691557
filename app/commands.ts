/** The command table main.ts dispatches on: `serve` (the composition of this folder) and src/cli's. */
import type { Command } from "../src/cli/command.ts";
import { CLI_COMMANDS } from "../src/cli/commands.ts";
import { serveCommand } from "./serve_command.ts";

export const COMMANDS: Record<string, Command> = { serve: serveCommand, ...CLI_COMMANDS };
