/** The `serve` command; it sits beside the composition it runs (app/serve.ts). */
import type { Command } from "../src/cli/command.ts";
import { serve } from "./serve.ts";

export const serveCommand: Command = {
  summary: "run the lake consumer, the processor, the schedule and the HTTP API",
  usage: "serve [--no-process]",
  options: { "no-process": { type: "boolean" } },
  async run(ctx) {
    await serve({
      config: ctx.config,
      log: ctx.log,
      signal: ctx.signal,
      process: !ctx.values["no-process"],
    });
  },
};
