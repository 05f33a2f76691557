/**
 * The scheduler's own warehouse tables: JOB_RUNS (one row per run, for /status and metrics) and
 * JOB_LOCKS (who runs a job right now, so runs never overlap, also across processes).
 */
import type { Database } from "../warehouse/db.ts";

export type JobName = "load" | "cleanup" | "pipeline";
export const JOB_NAMES: readonly JobName[] = ["load", "cleanup", "pipeline"];
export type Trigger = "schedule" | "api" | "cli";
export type Outcome = "running" | "ok" | "error" | "interrupted";
export type JobCounts = Record<string, number>;

export interface JobRun {
  id: number;
  job: JobName;
  trigger: Trigger;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: Outcome;
  durationMs: number | null;
  counts: JobCounts;
  error: string | null;
}

export function ensureJobTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS JOB_RUNS (
      RUN_ID INTEGER PRIMARY KEY AUTOINCREMENT,
      JOB TEXT NOT NULL,
      TRIGGER TEXT NOT NULL,
      ACTOR TEXT NOT NULL,
      STARTED_AT TEXT NOT NULL,
      FINISHED_AT TEXT,
      OUTCOME TEXT NOT NULL,
      DURATION_MS INTEGER,
      COUNTS TEXT NOT NULL DEFAULT '{}',
      ERROR TEXT
    );
    CREATE INDEX IF NOT EXISTS JOB_RUNS_BY_JOB ON JOB_RUNS (JOB, RUN_ID);
    CREATE TABLE IF NOT EXISTS JOB_LOCKS (
      NAME TEXT PRIMARY KEY,
      JOB TEXT NOT NULL,
      PID INTEGER NOT NULL,
      HOST TEXT NOT NULL,
      ACQUIRED_AT TEXT NOT NULL,
      HEARTBEAT_AT TEXT NOT NULL
    );
  `);
}

export function insertRun(
  db: Database,
  run: { job: JobName; trigger: Trigger; actor: string; startedAt: string },
): number {
  const result = db.prepare(
    `INSERT INTO JOB_RUNS (JOB, TRIGGER, ACTOR, STARTED_AT, OUTCOME) VALUES (?, ?, ?, ?, 'running')`,
  ).run(run.job, run.trigger, run.actor, run.startedAt);
  return Number(result.lastInsertRowid);
}

export function finishRun(
  db: Database,
  id: number,
  end: {
    finishedAt: string;
    outcome: Outcome;
    durationMs: number;
    counts: JobCounts;
    error?: string;
  },
): void {
  db.prepare(
    `UPDATE JOB_RUNS SET FINISHED_AT = ?, OUTCOME = ?, DURATION_MS = ?, COUNTS = ?, ERROR = ?
     WHERE RUN_ID = ?`,
  ).run(
    end.finishedAt,
    end.outcome,
    Math.round(end.durationMs),
    JSON.stringify(end.counts),
    end.error ?? null,
    id,
  );
}

/** The latest run of each job (absent for jobs that never ran). */
export function lastRuns(db: Database): Partial<Record<JobName, JobRun>> {
  const rows = db.prepare(
    `SELECT * FROM JOB_RUNS WHERE RUN_ID IN (SELECT MAX(RUN_ID) FROM JOB_RUNS GROUP BY JOB)`,
  ).all() as Record<string, unknown>[];
  const out: Partial<Record<JobName, JobRun>> = {};
  for (const row of rows) {
    const run = toRun(row);
    out[run.job] = run;
  }
  return out;
}

/** The latest finished run of each job that ended well or badly (for duration metrics). */
export function lastFinishedRuns(db: Database): JobRun[] {
  const rows = db.prepare(
    `SELECT * FROM JOB_RUNS WHERE RUN_ID IN
       (SELECT MAX(RUN_ID) FROM JOB_RUNS WHERE FINISHED_AT IS NOT NULL GROUP BY JOB)`,
  ).all() as Record<string, unknown>[];
  return rows.map(toRun);
}

/** The latest `limit` runs of any job, newest first (the dashboard's run list). */
export function recentRuns(db: Database, limit = 10): JobRun[] {
  const rows = db.prepare(`SELECT * FROM JOB_RUNS ORDER BY RUN_ID DESC LIMIT ?`)
    .all(limit) as Record<string, unknown>[];
  return rows.map(toRun);
}

export function runById(db: Database, id: number): JobRun | undefined {
  const row = db.prepare(`SELECT * FROM JOB_RUNS WHERE RUN_ID = ?`).get(id);
  return row ? toRun(row as Record<string, unknown>) : undefined;
}

function toRun(row: Record<string, unknown>): JobRun {
  return {
    id: Number(row.RUN_ID),
    job: row.JOB as JobName,
    trigger: row.TRIGGER as Trigger,
    actor: String(row.ACTOR),
    startedAt: String(row.STARTED_AT),
    finishedAt: row.FINISHED_AT === null ? null : String(row.FINISHED_AT),
    outcome: row.OUTCOME as Outcome,
    durationMs: row.DURATION_MS === null ? null : Number(row.DURATION_MS),
    counts: JSON.parse(String(row.COUNTS ?? "{}")),
    error: row.ERROR === null ? null : String(row.ERROR),
  };
}
