/**
 * One job at a time, across processes: a JOB_LOCKS row taken inside BEGIN IMMEDIATE (SQLite's
 * write lock, so two processes cannot both see the row free). The holder refreshes a heartbeat;
 * a lock whose holder is gone (same host, process no longer alive) or whose heartbeat is older
 * than STALE_AFTER_MS is taken over, so a crash never blocks the schedule forever.
 */
import { ConflictError } from "../core/errors.ts";
import { type Database, openWarehouse } from "../warehouse/db.ts";
import { ensureJobTables } from "./store.ts";

/** Every warehouse job shares one lock: a load and a cleanup must not overlap either. */
export const LOCK_NAME = "warehouse-jobs";
export const STALE_AFTER_MS = 10 * 60 * 1000;
const HEARTBEAT_MS = 30 * 1000;

export interface LockHolder {
  job: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
}

export interface JobLock {
  release(): void;
}

export interface LockOptions {
  pid?: number;
  host?: string;
  now?: () => Date;
  /** Whether a process of this host is alive; defaults to /proc on Linux (else assumed alive). */
  isAlive?: (pid: number) => boolean;
}

/** Takes the lock for `job` or throws ConflictError naming the run in progress. */
export function acquireJobLock(db: Database, job: string, options: LockOptions = {}): JobLock {
  const pid = options.pid ?? Deno.pid;
  const host = options.host ?? hostName();
  const now = options.now ?? (() => new Date());
  const isAlive = options.isAlive ?? processAlive;
  ensureJobTables(db);

  db.exec("BEGIN IMMEDIATE");
  try {
    const holder = currentHolder(db);
    if (holder && !isStale(holder, { host, now: now(), isAlive })) {
      throw new ConflictError(
        `Cannot run ${job}: job ${holder.job} is already running ` +
          `(pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt})`,
      );
    }
    const stamp = now().toISOString();
    db.prepare(
      `INSERT OR REPLACE INTO JOB_LOCKS (NAME, JOB, PID, HOST, ACQUIRED_AT, HEARTBEAT_AT)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(LOCK_NAME, job, pid, host, stamp, stamp);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }

  const heartbeat = setInterval(() => {
    try {
      db.prepare(`UPDATE JOB_LOCKS SET HEARTBEAT_AT = ? WHERE NAME = ? AND PID = ? AND HOST = ?`)
        .run(now().toISOString(), LOCK_NAME, pid, host);
    } catch {
      // A busy database delays one heartbeat; the stale rule leaves plenty of margin.
    }
  }, HEARTBEAT_MS);
  Deno.unrefTimer(heartbeat);

  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      db.prepare(`DELETE FROM JOB_LOCKS WHERE NAME = ? AND PID = ? AND HOST = ?`)
        .run(LOCK_NAME, pid, host);
    },
  };
}

/** Who holds the lock now, if anyone (stale holders included). */
export function currentHolder(db: Database): LockHolder | undefined {
  const row = db.prepare(`SELECT * FROM JOB_LOCKS WHERE NAME = ?`).get(LOCK_NAME) as
    | Record<string, unknown>
    | undefined;
  if (!row) return undefined;
  return {
    job: String(row.JOB),
    pid: Number(row.PID),
    host: String(row.HOST),
    acquiredAt: String(row.ACQUIRED_AT),
    heartbeatAt: String(row.HEARTBEAT_AT),
  };
}

function isStale(
  holder: LockHolder,
  here: { host: string; now: Date; isAlive: (pid: number) => boolean },
): boolean {
  if (holder.host === here.host && !here.isAlive(holder.pid)) return true;
  return here.now.getTime() - Date.parse(holder.heartbeatAt) > STALE_AFTER_MS;
}

function processAlive(pid: number): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown-host";
  }
}

/**
 * Runs `work` holding the job lock, for jobs started outside a JobRunner (the CLI's `load` and
 * `cleanup`), so they never overlap a scheduled or API run in another process.
 */
export async function withJobLock<T>(
  warehousePath: string,
  job: string,
  work: () => Promise<T>,
): Promise<T> {
  const db = openWarehouse(warehousePath);
  try {
    const lock = acquireJobLock(db, job);
    try {
      return await work();
    } finally {
      lock.release();
    }
  } finally {
    db.close();
  }
}
