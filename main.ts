/**
 * Entry point: parses the command line, builds the config, dispatches to a command, and turns
 * errors into one clear line and an exit code. Nothing else happens here.
 */
import { parseArgs } from "node:util";
import { COMMANDS } from "./app/commands.ts";
import { loadConfig } from "./src/config/config.ts";
import { ConfigError, DomainError, UsageError } from "./src/core/errors.ts";
import { createLogger } from "./src/core/log.ts";

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `usage: main.ts <command> [options]\n\ncommands:\n${lines.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}; run with --help`);
  }

  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${command.usage}`);
  }
  if (parsed.values.help) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }

  const config = loadConfig();
  const log = createLogger();
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    const code = await command.run({
      config,
      log,
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
      print: (line) => console.log(line),
      signal: controller.signal,
    });
    return code ?? 0;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (!(error instanceof DomainError)) console.error((error as Error).stack);
    // As documented: 2 bad usage, 3 bad configuration, 1 any other failure (bad data included).
    code = error instanceof UsageError ? 2 : error instanceof ConfigError ? 3 : 1;
  }
  Deno.exit(code);
}
