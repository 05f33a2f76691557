/**
 * The scheduler's own warehouse tables: JOB_RUNS (one row per run, for /status and metrics) and
 * JOB_LOCKS (who runs a job right now, so runs never overlap, also across processes).
 */
import type { Sql } from "../warehouse/engine.ts";

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

export async function ensureJobTables(sql: Sql): Promise<void> {
  const { types: t, tableOptions } = sql.dialect;
  // TRIGGER is a reserved word in MySQL: always quoted.
  await sql.run(`
    CREATE TABLE IF NOT EXISTS JOB_RUNS (
      RUN_ID ${t.autoId},
      JOB ${t.key(32)} NOT NULL,
      "TRIGGER" ${t.key(32)} NOT NULL,
      ACTOR ${t.text} NOT NULL,
      STARTED_AT ${t.key(40)} NOT NULL,
      FINISHED_AT ${t.key(40)},
      OUTCOME ${t.key(16)} NOT NULL,
      DURATION_MS ${t.integer},
      COUNTS ${t.text} NOT NULL,
      ERROR ${t.text}
    )${tableOptions}`);
  await sql.dialect.ensureIndex(sql, {
    name: "JOB_RUNS_BY_JOB",
    table: "JOB_RUNS",
    columns: ["JOB", "RUN_ID"],
  });
  await sql.run(`
    CREATE TABLE IF NOT EXISTS JOB_LOCKS (
      NAME ${t.key(64)} PRIMARY KEY,
      JOB ${t.key(32)} NOT NULL,
      PID ${t.integer} NOT NULL,
      HOST ${t.key(255)} NOT NULL,
      ACQUIRED_AT ${t.key(40)} NOT NULL,
      HEARTBEAT_AT ${t.key(40)} NOT NULL
    )${tableOptions}`);
}

export async function insertRun(
  sql: Sql,
  run: { job: JobName; trigger: Trigger; actor: string; startedAt: string },
): Promise<number> {
  const result = await sql.run(
    `INSERT INTO JOB_RUNS (JOB, "TRIGGER", ACTOR, STARTED_AT, OUTCOME, COUNTS)
     VALUES (?, ?, ?, ?, 'running', '{}')`,
    [run.job, run.trigger, run.actor, run.startedAt],
  );
  return Number(result.lastInsertId);
}

export async function finishRun(
  sql: Sql,
  id: number,
  end: {
    finishedAt: string;
    outcome: Outcome;
    durationMs: number;
    counts: JobCounts;
    error?: string;
  },
): Promise<void> {
  await sql.run(
    `UPDATE JOB_RUNS SET FINISHED_AT = ?, OUTCOME = ?, DURATION_MS = ?, COUNTS = ?, ERROR = ?
     WHERE RUN_ID = ?`,
    [
      end.finishedAt,
      end.outcome,
      Math.round(end.durationMs),
      JSON.stringify(end.counts),
      end.error ?? null,
      id,
    ],
  );
}

/** The latest run of each job (absent for jobs that never ran). */
export async function lastRuns(sql: Sql): Promise<Partial<Record<JobName, JobRun>>> {
  const rows = await sql.all(
    `SELECT r.* FROM JOB_RUNS r JOIN (SELECT MAX(RUN_ID) AS ID FROM JOB_RUNS GROUP BY JOB) m
       ON r.RUN_ID = m.ID`,
  );
  const out: Partial<Record<JobName, JobRun>> = {};
  for (const row of rows) {
    const run = toRun(row);
    out[run.job] = run;
  }
  return out;
}

/** The latest finished run of each job that ended well or badly (for duration metrics). */
export async function lastFinishedRuns(sql: Sql): Promise<JobRun[]> {
  const rows = await sql.all(
    `SELECT r.* FROM JOB_RUNS r JOIN (SELECT MAX(RUN_ID) AS ID FROM JOB_RUNS
       WHERE FINISHED_AT IS NOT NULL GROUP BY JOB) m ON r.RUN_ID = m.ID`,
  );
  return rows.map(toRun);
}

/** The latest `limit` runs of any job, newest first (the dashboard's run list). */
export async function recentRuns(sql: Sql, limit = 10): Promise<JobRun[]> {
  const rows = await sql.all(`SELECT * FROM JOB_RUNS ORDER BY RUN_ID DESC LIMIT ?`, [limit]);
  return rows.map(toRun);
}

export async function runById(sql: Sql, id: number): Promise<JobRun | undefined> {
  const row = await sql.get(`SELECT * FROM JOB_RUNS WHERE RUN_ID = ?`, [id]);
  return row ? toRun(row) : undefined;
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
