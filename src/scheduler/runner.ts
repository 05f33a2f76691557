/**
 * Runs warehouse jobs (load, cleanup, pipeline = load then cleanup) one at a time: takes the job
 * lock, records the run in JOB_RUNS, audits it, and logs it the way the seed's pipeline did,
 * with counts. The schedule and the API start jobs through here; the CLI's `load` and `cleanup`
 * take the same job lock (`withJobLock`), so no two runs ever overlap.
 */
import { ConflictError, DomainError, NotFoundError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { AuditEntry } from "../governance/audit.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { acquireJobLock, type LockOptions } from "./lock.ts";
import {
  finishRun,
  insertRun,
  JOB_NAMES,
  type JobCounts,
  type JobName,
  type JobRun,
  type Outcome,
  runById,
  type Trigger,
} from "./store.ts";

export interface JobContext {
  /** A warehouse (connection or pool) of the job's own, closed when the job ends. */
  warehouse: Warehouse;
  log: Logger;
  /** Who started the run (for the audit rows the job writes). */
  actor: string;
  /** Aborted on shutdown: the job finishes or rolls back its current transaction. */
  signal: AbortSignal;
}

/** A job reports what it did as named counts (rows_loaded, partitions_deleted, ...). */
export type JobFn = (ctx: JobContext) => Promise<JobCounts>;

export interface JobSet {
  load: JobFn;
  cleanup: JobFn;
}

export interface JobRunnerOptions {
  /**
   * Opens the configured warehouse (openWarehouseFromConfig): once for the job lock, once for
   * the job, so the lock's heartbeat never joins the job's transactions.
   */
  open: () => Promise<Warehouse>;
  log: Logger;
  jobs: JobSet;
  /** Records the run in AUDIT_LOG (governance); optional in unit tests. */
  audit?: (sql: Sql, entry: AuditEntry) => Promise<void>;
  lock?: LockOptions;
}

export interface StartOptions {
  trigger: Trigger;
  /** Who asked: "scheduler", an account name, or "cli". */
  actor: string;
  signal?: AbortSignal;
}

export interface StartedRun {
  /** The run as recorded when it started (outcome "running"). */
  run: JobRun;
  /** Resolves with the finished run (never rejects: failures are an outcome). */
  done: Promise<JobRun>;
}

function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

export class JobRunner {
  #options: JobRunnerOptions;
  #running = new Set<Promise<JobRun>>();
  #shutdown = new AbortController();

  constructor(options: JobRunnerOptions) {
    this.#options = options;
  }

  /**
   * Takes the lock and starts `job`; rejects at once with ConflictError when another run (in
   * this or another process) holds the lock, NotFoundError for unknown jobs.
   */
  async start(job: string, options: StartOptions): Promise<StartedRun> {
    if (!isJobName(job)) {
      throw new NotFoundError(
        `unknown job ${JSON.stringify(job)}; jobs are ${JOB_NAMES.join(", ")}`,
      );
    }
    if (this.#shutdown.signal.aborted) {
      throw new ConflictError(`Cannot run ${job}: the service is shutting down`);
    }
    const { open, log } = this.#options;
    const lockWarehouse = await open();
    let lock;
    try {
      lock = await acquireJobLock(lockWarehouse, job, this.#options.lock);
    } catch (error) {
      await lockWarehouse.close();
      if (error instanceof ConflictError) {
        log.warn("job.refused", { job, trigger: options.trigger, reason: error.message });
      }
      throw error;
    }

    let warehouse: Warehouse | undefined;
    let run: JobRun;
    try {
      warehouse = await open(); // acquireJobLock has made the job tables
      const id = await insertRun(warehouse, {
        job,
        trigger: options.trigger,
        actor: options.actor,
        startedAt: new Date().toISOString(),
      });
      run = (await runById(warehouse, id))!;
    } catch (error) {
      await lock.release().catch(() => {});
      await lockWarehouse.close();
      await warehouse?.close();
      throw error;
    }
    const jobWarehouse = warehouse;
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#shutdown.signal])
      : this.#shutdown.signal;

    const done = this.#execute(job, run, jobWarehouse, signal).finally(async () => {
      await lock.release().catch((error) =>
        log.warn("job.lock_release_failed", { job, error: (error as Error).message })
      );
      await lockWarehouse.close();
      await jobWarehouse.close();
      this.#running.delete(done);
    });
    this.#running.add(done);
    return { run, done };
  }

  /** Starts `job` and waits for it to end. */
  async run(job: string, options: StartOptions): Promise<JobRun> {
    return await (await this.start(job, options)).done;
  }

  /** Asks running jobs to stop (they finish or roll back) and waits for them. */
  async shutdown(): Promise<void> {
    this.#shutdown.abort();
    await Promise.allSettled([...this.#running]);
  }

  async #execute(
    job: JobName,
    run: JobRun,
    warehouse: Warehouse,
    signal: AbortSignal,
  ): Promise<JobRun> {
    const log = this.#options.log.child({ component: "scheduler", job, run_id: run.id });
    const started = performance.now();
    log.info("pipeline.start", {
      message: job === "pipeline"
        ? `PIPELINE START: Data Lake → ${warehouse.label} warehouse, then retention cleanup`
        : `JOB START: ${job}`,
      trigger: run.trigger,
      actor: run.actor,
    });

    const steps: ("load" | "cleanup")[] = job === "pipeline" ? ["load", "cleanup"] : [job];
    const counts: JobCounts = {};
    let outcome: Outcome = "ok";
    const errors: string[] = [];
    // Every step runs whatever the one before did: a failed load never stops retention.
    for (const step of steps) {
      if (signal.aborted) {
        outcome = "interrupted";
        break;
      }
      const stepStarted = performance.now();
      try {
        const stepCounts = await this.#options.jobs[step]({
          warehouse,
          log: log.child({ step }),
          actor: run.actor,
          signal,
        });
        for (const [key, value] of Object.entries(stepCounts)) {
          counts[key] = (counts[key] ?? 0) + value;
        }
        log.info("pipeline.step_finished", {
          step,
          seconds: seconds(performance.now() - stepStarted),
          ...stepCounts,
        });
      } catch (error) {
        outcome = signal.aborted ? "interrupted" : "error";
        const text = error instanceof Error ? error.message : String(error);
        errors.push(steps.length > 1 ? `${step}: ${text}` : text);
        log.error("pipeline.step_failed", {
          step,
          error: text,
          kind: error instanceof DomainError ? error.name : "Error",
        });
      }
    }
    const errorText = errors.length > 0 ? errors.join("; ") : undefined;

    const durationMs = performance.now() - started;
    const finished = {
      finishedAt: new Date().toISOString(),
      outcome,
      durationMs,
      counts,
      error: errorText,
    };
    // A warehouse gone by now (a server stopped mid-job) is logged; `done` still resolves.
    const recorded = await finishRun(warehouse, run.id, finished).then(() => true, (error) => {
      log.error("job.record_failed", { error: (error as Error).message });
      return false;
    });
    const secs = seconds(durationMs);
    if (outcome === "ok") {
      log.info("pipeline.finished", {
        message: `${job === "pipeline" ? "Pipeline" : `Job ${job}`} finished successfully: ` +
          `${counts.rows_loaded ?? 0} rows loaded, ${
            counts.partitions_deleted ?? 0
          } partitions deleted in ${secs} s`,
        seconds: secs,
        ...counts,
      });
    } else {
      log.error("pipeline.failed", {
        message: `${job} ${
          outcome === "interrupted" ? "was interrupted" : "failed"
        } after ${secs} s`,
        outcome,
        error: errorText,
        seconds: secs,
        ...counts,
      });
    }
    await this.#options.audit?.(warehouse, {
      actor: run.actor,
      action: `job.${job}`,
      target: job,
      outcome: outcome === "ok" ? "ok" : "error",
      detail: { run_id: run.id, trigger: run.trigger, outcome, counts, seconds: secs },
    }).catch((error) => log.error("job.audit_failed", { error: (error as Error).message }));
    const stored = recorded ? await runById(warehouse, run.id).catch(() => undefined) : undefined;
    return stored ?? {
      ...run,
      finishedAt: finished.finishedAt,
      outcome,
      durationMs: Math.round(durationMs),
      counts,
      error: errorText ?? null,
    };
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}
