import assert from "node:assert/strict";
import { ConflictError, NotFoundError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import { nextRun } from "../../src/config/cron.ts";
import { acquireJobLock, currentHolder } from "../../src/scheduler/lock.ts";
import type { AuditEntry } from "../../src/governance/audit.ts";
import { type JobFn, JobRunner } from "../../src/scheduler/runner.ts";
import { type CronFn, PIPELINE_CRON_NAME, startSchedule } from "../../src/scheduler/schedule.ts";
import { lastRuns } from "../../src/scheduler/store.ts";
import { openWarehouse } from "../../src/warehouse/db.ts";
import { tempDir } from "../helpers/env.ts";

async function warehousePath(): Promise<string> {
  return `${await tempDir("sched-")}/data_warehouse.db`;
}

/** A job that waits until released: lets a test hold a run "in progress". */
function gatedJob(counts: Record<string, number>) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const fn: JobFn = async () => {
    started();
    await gate;
    return counts;
  };
  return { fn, release, running };
}

/** Runs `fn`, asserts it throws an instance of `kind`, and returns the error. */
function assertThrows(
  fn: () => unknown,
  kind: abstract new (...a: never[]) => Error = Error,
): Error {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${kind.name} to be thrown` });
}

const instant = (counts: Record<string, number>): JobFn => () => Promise.resolve(counts);

Deno.test("nextRun follows five-field cron expressions in UTC", () => {
  const from = new Date("2026-11-24T12:03:30Z");
  assert.deepEqual(nextRun("*/10 * * * *", from).toISOString(), "2026-11-24T12:10:00.000Z");
  assert.deepEqual(nextRun("* * * * *", from).toISOString(), "2026-11-24T12:04:00.000Z");
  assert.deepEqual(nextRun("0 3 * * *", from).toISOString(), "2026-11-25T03:00:00.000Z");
  assert.deepEqual(nextRun("15 2 1 * *", from).toISOString(), "2026-12-01T02:15:00.000Z");
  assert.deepEqual(nextRun("0 0 * * 1", from).toISOString(), "2026-11-30T00:00:00.000Z"); // Monday
  assertThrows(() => nextRun("61 * * * *", from));
});

Deno.test("job lock: a second holder is refused, a dead holder's lock is taken over", async () => {
  const db = openWarehouse(await warehousePath());
  try {
    const first = acquireJobLock(db, "load", { pid: 111, host: "h", isAlive: () => true });
    assert.deepEqual(currentHolder(db)?.pid, 111);
    const error = assertThrows(
      () => acquireJobLock(db, "cleanup", { pid: 222, host: "h", isAlive: () => true }),
      ConflictError,
    );
    assert(error.message.includes("load is already running (pid 111 on h"), error.message);
    first.release();
    assert.deepEqual(currentHolder(db), undefined);

    // Holder 333 crashed without releasing: its process is gone, so the lock is stale.
    acquireJobLock(db, "load", { pid: 333, host: "h", isAlive: () => true });
    const taken = acquireJobLock(db, "load", {
      pid: 444,
      host: "h",
      isAlive: (pid) => pid !== 333,
    });
    assert.deepEqual(currentHolder(db)?.pid, 444);
    taken.release();

    // A holder on another host whose heartbeat is old is stale too.
    acquireJobLock(db, "load", { pid: 555, host: "other", now: () => new Date("2020-01-01") });
    acquireJobLock(db, "load", { pid: 666, host: "h" }).release();
  } finally {
    db.close();
  }
});

Deno.test("runner records a run with counts and audits it", async () => {
  const path = await warehousePath();
  const audits: AuditEntry[] = [];
  const runner = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs: { load: instant({ rows_loaded: 7 }), cleanup: instant({ partitions_deleted: 2 }) },
    audit: (_db, entry) => audits.push(entry),
  });
  const run = await runner.run("pipeline", { trigger: "cli", actor: "tester" });
  assert.deepEqual(run.outcome, "ok");
  assert.deepEqual(run.counts, { rows_loaded: 7, partitions_deleted: 2 });
  assert(run.finishedAt && run.finishedAt >= run.startedAt);
  assert.deepEqual(audits.length, 1);
  assert.deepEqual(audits[0].action, "job.pipeline");
  assert.deepEqual(audits[0].actor, "tester");

  const db = openWarehouse(path);
  try {
    const last = lastRuns(db).pipeline!;
    assert.deepEqual(last.id, run.id);
    assert.deepEqual(last.counts.rows_loaded, 7);
    assert.deepEqual(currentHolder(db), undefined); // released
  } finally {
    db.close();
  }
  assertThrows(() => runner.start("drop_tables", { trigger: "api", actor: "x" }), NotFoundError);
});

Deno.test("a failing step is recorded as an error and the lock is released", async () => {
  const path = await warehousePath();
  const runner = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs: {
      load: () => Promise.reject(new Error("Cannot load X: disk full")),
      cleanup: instant({ partitions_deleted: 1 }),
    },
  });
  const run = await runner.run("pipeline", { trigger: "api", actor: "admin" });
  assert.deepEqual(run.outcome, "error");
  assert.deepEqual(run.error, "Cannot load X: disk full");
  assert.deepEqual(run.counts, {}); // cleanup did not run after the failed load
  assert.deepEqual((await runner.run("cleanup", { trigger: "api", actor: "admin" })).outcome, "ok");
});

Deno.test("a concurrent manual run is refused while one is in progress, also from another process", async () => {
  const path = await warehousePath();
  const gated = gatedJob({ rows_loaded: 1 });
  const jobs = { load: gated.fn, cleanup: instant({}) };
  const runner = new JobRunner({ warehousePath: path, log: silentLogger, jobs });
  // Another process on the same warehouse: another runner with another pid.
  const other = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs,
    lock: { pid: Deno.pid + 1_000_000, isAlive: () => true },
  });

  const first = runner.start("pipeline", { trigger: "schedule", actor: "scheduler" });
  await gated.running;
  assertThrows(() => runner.start("load", { trigger: "api", actor: "admin" }), ConflictError);
  const error = assertThrows(
    () => other.start("cleanup", { trigger: "cli", actor: "cli" }),
    ConflictError,
  );
  assert(error.message.includes(`pid ${Deno.pid}`), error.message);

  gated.release();
  assert.deepEqual((await first.done).outcome, "ok");
  assert.deepEqual((await other.run("cleanup", { trigger: "cli", actor: "cli" })).outcome, "ok");
});

Deno.test("shutdown interrupts the running job and waits for it", async () => {
  const path = await warehousePath();
  const runner = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs: {
      load: ({ signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("rolled back")))
        ),
      cleanup: instant({}),
    },
  });
  const started = runner.start("pipeline", { trigger: "schedule", actor: "scheduler" });
  await runner.shutdown();
  const run = await started.done;
  assert.deepEqual(run.outcome, "interrupted");
  assertThrows(() => runner.start("load", { trigger: "api", actor: "a" }), ConflictError);
});

Deno.test("the scheduled handler runs the pipeline and records its run", async () => {
  const path = await warehousePath();
  const runner = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs: { load: instant({ rows_loaded: 3 }), cleanup: instant({ partitions_deleted: 0 }) },
  });
  const registered: { name: string; schedule: string; handler: () => Promise<void> }[] = [];
  const cron: CronFn = (name, schedule, _options, handler) => {
    registered.push({ name, schedule, handler });
    return new Promise(() => {});
  };
  const stop = new AbortController();
  startSchedule({ schedule: "*/7 * * * *", runner, log: silentLogger, signal: stop.signal, cron });
  assert.deepEqual(registered.map((r) => [r.name, r.schedule]), [[
    PIPELINE_CRON_NAME,
    "*/7 * * * *",
  ]]);

  await registered[0].handler(); // what Deno.cron calls on each tick
  const db = openWarehouse(path);
  try {
    const run = lastRuns(db).pipeline!;
    assert.deepEqual(run.trigger, "schedule");
    assert.deepEqual(run.actor, "scheduler");
    assert.deepEqual(run.outcome, "ok");
    assert.deepEqual(run.counts.rows_loaded, 3);
  } finally {
    db.close();
  }

  // A tick while a manual run holds the lock is skipped, not failed, and not recorded.
  const gated = gatedJob({});
  const busy = new JobRunner({
    warehousePath: path,
    log: silentLogger,
    jobs: { load: gated.fn, cleanup: instant({}) },
  });
  const manual = busy.start("load", { trigger: "api", actor: "admin" });
  await gated.running;
  await registered[0].handler();
  gated.release();
  await manual.done;
  const db2 = openWarehouse(path);
  try {
    assert.deepEqual(lastRuns(db2).pipeline!.id, 1);
  } finally {
    db2.close();
  }
  stop.abort();
});

Deno.test("the real Deno.cron is registered with the configured schedule", async () => {
  const runner = new JobRunner({
    warehousePath: await warehousePath(),
    log: silentLogger,
    jobs: { load: instant({}), cleanup: instant({}) },
  });
  const real = Deno.cron;
  const descriptor = Object.getOwnPropertyDescriptor(Deno, "cron")!;
  const seen: [string, string][] = [];
  Object.defineProperty(Deno, "cron", {
    configurable: true,
    value: (...args: Parameters<typeof Deno.cron>) => {
      seen.push([args[0], args[1] as string]);
      return (real as (...a: unknown[]) => Promise<void>)(...args);
    },
  });
  const stop = new AbortController();
  try {
    startSchedule({ schedule: "*/5 * * * *", runner, log: silentLogger, signal: stop.signal });
    assert.deepEqual(seen, [["pipeline", "*/5 * * * *"]]);
    // Deno.cron itself validates what it was given.
    assertThrows(
      () =>
        startSchedule({
          schedule: "not a schedule",
          runner,
          log: silentLogger,
          signal: stop.signal,
        }),
    );
  } finally {
    stop.abort();
    Object.defineProperty(Deno, "cron", descriptor);
  }
});
