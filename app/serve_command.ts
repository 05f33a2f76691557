/** The `serve` command; it sits beside the composition it runs (app/serve.ts). */
import { setFlagsFromString } from "node:v8";
import type { Command } from "../src/cli/command.ts";
import { serve } from "./serve.ts";

/**
 * A long-running service on small machines: V8's old generation grows by half the live heap
 * before its next full collection, not by up to four times (its default). Set here, not in the
 * start task, because the batch commands run slower with it on top of the start task's small
 * young generation (see README, "Where `serve`'s memory goes"); V8 reads it at every collection.
 */
const SERVE_V8_FLAGS = "--heap-growing-percent=50";

export const serveCommand: Command = {
  summary: "run the lake consumer, the processor, the schedule and the HTTP API",
  usage: "serve [--no-process]",
  options: { "no-process": { type: "boolean" } },
  async run(ctx) {
    setFlagsFromString(SERVE_V8_FLAGS);
    await serve({
      config: ctx.config,
      log: ctx.log,
      signal: ctx.signal,
      process: !ctx.values["no-process"],
    });
  },
};
