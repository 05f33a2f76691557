/** What every command gets and gives. Commands live one per file in this folder. */
import type { Config } from "../config/config.ts";
import type { Logger } from "../core/log.ts";

export type OptionSpec = { type: "string" | "boolean"; short?: string };

export interface CommandContext {
  config: Config;
  log: Logger;
  /** Parsed options (`--once` → values.once). */
  values: Record<string, string | boolean | undefined>;
  /** Words after the command name (`accounts create NAME` → ["create", "NAME"]). */
  positionals: string[];
  /** Command output for people and scripts (stdout); logs go to the logger (stderr). */
  print(line: string): void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Resolves with the exit code (0 when omitted). Throws DomainErrors for failures. */
  run(ctx: CommandContext): Promise<number | void>;
}
