/**
 * Registers the pipeline with Deno.cron on PIPELINE_SCHEDULE. The cron function is injectable so
 * tests can call the registered handler directly instead of waiting for the clock.
 */
import type { Logger } from "../core/log.ts";
import { ConflictError } from "../core/errors.ts";
import type { JobRunner } from "./runner.ts";

export type CronFn = (
  name: string,
  schedule: string,
  options: { signal?: AbortSignal },
  handler: () => Promise<void>,
) => Promise<void>;

export interface ScheduleOptions {
  schedule: string;
  runner: JobRunner;
  log: Logger;
  /** Unregisters the cron job when aborted. */
  signal: AbortSignal;
  cron?: CronFn;
}

export const PIPELINE_CRON_NAME = "pipeline";

/** Registers the pipeline job; returns the handler (the same one given to cron). */
export function startSchedule(options: ScheduleOptions): () => Promise<void> {
  const { runner, log, schedule, signal } = options;
  const cron = options.cron ?? (Deno.cron as unknown as CronFn);
  const handler = async () => {
    if (signal.aborted) return;
    try {
      await runner.run("pipeline", { trigger: "schedule", actor: "scheduler", signal });
    } catch (error) {
      // A manual run in progress: this tick is skipped, the next one will try again.
      if (error instanceof ConflictError) log.warn("schedule.skipped", { reason: error.message });
      else log.error("schedule.failed", { error: (error as Error).message });
    }
  };
  cron(PIPELINE_CRON_NAME, schedule, { signal }, handler).catch((error) => {
    if (!signal.aborted) log.error("schedule.stopped", { error: (error as Error).message });
  });
  log.info("schedule.registered", { job: PIPELINE_CRON_NAME, schedule });
  return handler;
}
