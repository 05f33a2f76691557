/**
 * One job at a time, across processes: a JOB_LOCKS row taken inside a transaction, on either
 * engine. SQLite's BEGIN IMMEDIATE is a write lock, so two processes cannot both see the row
 * free; on MySQL the row is read FOR UPDATE, and a racer that inserted first makes our insert
 * fail with a duplicate key (or a deadlock), after which we read again and see its lock. The holder refreshes a heartbeat;
 * a lock whose holder is gone (same host, process no longer alive) or whose heartbeat is older
 * than STALE_AFTER_MS is taken over, so a crash never blocks the schedule forever.
 */
import { ConflictError } from "../core/errors.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { openWarehouseFromConfig, type WarehouseConfig } from "../warehouse/open.ts";
import { ensureJobTables } from "./store.ts";

/** Every warehouse job shares one lock: a load and a cleanup must not overlap either. */
export const LOCK_NAME = "warehouse-jobs";
export const STALE_AFTER_MS = 10 * 60 * 1000;
const HEARTBEAT_MS = 30 * 1000;
const RACE_RETRIES = 3;

export interface LockHolder {
  job: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
}

export interface JobLock {
  release(): Promise<void>;
}

export interface LockOptions {
  pid?: number;
  host?: string;
  now?: () => Date;
  /** Whether a process of this host is alive; defaults to /proc on Linux (else assumed alive). */
  isAlive?: (pid: number) => boolean;
}

/** Takes the lock for `job` or throws ConflictError naming the run in progress. */
export async function acquireJobLock(
  warehouse: Warehouse,
  job: string,
  options: LockOptions = {},
): Promise<JobLock> {
  const pid = options.pid ?? Deno.pid;
  const host = options.host ?? hostName();
  const now = options.now ?? (() => new Date());
  const isAlive = options.isAlive ?? processAlive;
  await ensureJobTables(warehouse);

  for (let attempt = 1;; attempt++) {
    try {
      await warehouse.transaction(async (tx) => {
        const holder = await currentHolder(tx, true);
        if (holder && !isStale(holder, { host, now: now(), isAlive })) {
          throw new ConflictError(
            `Cannot run ${job}: job ${holder.job} is already running ` +
              `(pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt})`,
          );
        }
        const stamp = now().toISOString();
        await tx.run(`DELETE FROM JOB_LOCKS WHERE NAME = ?`, [LOCK_NAME]);
        await tx.run(
          `INSERT INTO JOB_LOCKS (NAME, JOB, PID, HOST, ACQUIRED_AT, HEARTBEAT_AT)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [LOCK_NAME, job, pid, host, stamp, stamp],
        );
      });
      break;
    } catch (error) {
      if (attempt < RACE_RETRIES && warehouse.dialect.isConflict(error)) continue;
      throw error;
    }
  }

  const heartbeat = setInterval(() => {
    warehouse.run(
      `UPDATE JOB_LOCKS SET HEARTBEAT_AT = ? WHERE NAME = ? AND PID = ? AND HOST = ?`,
      [now().toISOString(), LOCK_NAME, pid, host],
    ).catch(() => {
      // A busy database delays one heartbeat; the stale rule leaves plenty of margin.
    });
  }, HEARTBEAT_MS);
  Deno.unrefTimer(heartbeat);

  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await warehouse.run(`DELETE FROM JOB_LOCKS WHERE NAME = ? AND PID = ? AND HOST = ?`, [
        LOCK_NAME,
        pid,
        host,
      ]);
    },
  };
}

/** Who holds the lock now, if anyone (stale holders included). */
export async function currentHolder(sql: Sql, forUpdate = false): Promise<LockHolder | undefined> {
  const row = await sql.get(
    `SELECT * FROM JOB_LOCKS WHERE NAME = ?${forUpdate ? sql.dialect.forUpdate : ""}`,
    [LOCK_NAME],
  );
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
 * `cleanup`), so they never overlap a scheduled or API run in another process. The lock has a
 * connection of its own, so its heartbeat never joins the job's transactions.
 */
export async function withJobLock<T>(
  config: WarehouseConfig,
  job: string,
  work: () => Promise<T>,
): Promise<T> {
  const warehouse = await openWarehouseFromConfig(config, { connections: 1 });
  try {
    const lock = await acquireJobLock(warehouse, job);
    try {
      return await work();
    } finally {
      await lock.release();
    }
  } finally {
    await warehouse.close();
  }
}
