import assert from "node:assert/strict";
import { ConflictError, NotFoundError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import { nextRun } from "../../src/config/cron.ts";
import { acquireJobLock, currentHolder } from "../../src/scheduler/lock.ts";
import type { AuditEntry } from "../../src/governance/audit.ts";
import { type JobFn, JobRunner } from "../../src/scheduler/runner.ts";
import { type CronFn, PIPELINE_CRON_NAME, startSchedule } from "../../src/scheduler/schedule.ts";
import { lastRuns } from "../../src/scheduler/store.ts";
import type { Warehouse } from "../../src/warehouse/engine.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest, type TestEngine } from "../helpers/engines.ts";
import { testConfig } from "../helpers/env.ts";

/** Opens a fresh warehouse of the engine's kind, as often as the runner asks. */
async function warehouseOf(engine: TestEngine): Promise<() => Promise<Warehouse>> {
  const config = await testConfig({ env: engine.env });
  return () => openWarehouseFromConfig(config);
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

/** Awaits `fn`, asserts it rejects with an instance of `kind`, and returns the error. */
async function assertRejects(
  fn: () => Promise<unknown>,
  kind: abstract new (...a: never[]) => Error = Error,
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${kind.name} to be thrown` });
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

engineTest(
  "job lock: a second holder is refused, a dead holder's lock is taken over",
  async (_t, e) => {
    const open = await warehouseOf(e);
    const db = await open();
    try {
      const first = await acquireJobLock(db, "load", { pid: 111, host: "h", isAlive: () => true });
      assert.deepEqual((await currentHolder(db))?.pid, 111);
      const error = await assertRejects(
        () => acquireJobLock(db, "cleanup", { pid: 222, host: "h", isAlive: () => true }),
        ConflictError,
      );
      assert(error.message.includes("load is already running (pid 111 on h"), error.message);
      await first.release();
      assert.deepEqual(await currentHolder(db), undefined);

      // Holder 333 crashed without releasing: its process is gone, so the lock is stale.
      await acquireJobLock(db, "load", { pid: 333, host: "h", isAlive: () => true });
      const taken = await acquireJobLock(db, "load", {
        pid: 444,
        host: "h",
        isAlive: (pid) => pid !== 333,
      });
      assert.deepEqual((await currentHolder(db))?.pid, 444);
      await taken.release();

      // A holder on another host whose heartbeat is old is stale too.
      await acquireJobLock(db, "load", {
        pid: 555,
        host: "other",
        now: () => new Date("2020-01-01"),
      });
      await (await acquireJobLock(db, "load", { pid: 666, host: "h" })).release();
    } finally {
      await db.close();
    }
  },
);

engineTest(
  "job lock: of racers from several connections at once, exactly one wins",
  async (_t, e) => {
    const open = await warehouseOf(e);
    const racers = await Promise.all(Array.from({ length: 6 }, () => open()));
    try {
      await acquireJobLock(racers[0], "load", { pid: 1, host: "h" }).then((l) => l.release());
      const results = await Promise.allSettled(
        racers.map((db, i) =>
          acquireJobLock(db, "load", { pid: 100 + i, host: "h", isAlive: () => true })
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      assert.equal(
        won.length,
        1,
        `one winner: ${JSON.stringify(lost.map((r) => String(r.reason)))}`,
      );
      for (const r of lost) assert.ok(r.reason instanceof ConflictError, String(r.reason));
      const holder = await currentHolder(racers[0]);
      assert.ok(holder && holder.pid >= 100);
    } finally {
      await Promise.all(racers.map((db) => db.close()));
    }
  },
);

engineTest("runner records a run with counts and audits it", async (_t, e) => {
  const open = await warehouseOf(e);
  const audits: AuditEntry[] = [];
  const runner = new JobRunner({
    open,
    log: silentLogger,
    jobs: { load: instant({ rows_loaded: 7 }), cleanup: instant({ partitions_deleted: 2 }) },
    audit: (_db, entry) => Promise.resolve(void audits.push(entry)),
  });
  const run = await runner.run("pipeline", { trigger: "cli", actor: "tester" });
  assert.deepEqual(run.outcome, "ok");
  assert.deepEqual(run.counts, { rows_loaded: 7, partitions_deleted: 2 });
  assert(run.finishedAt && run.finishedAt >= run.startedAt);
  assert.deepEqual(audits.length, 1);
  assert.deepEqual(audits[0].action, "job.pipeline");
  assert.deepEqual(audits[0].actor, "tester");

  const db = await open();
  try {
    const last = (await lastRuns(db)).pipeline!;
    assert.deepEqual(last.id, run.id);
    assert.deepEqual(last.counts.rows_loaded, 7);
    assert.deepEqual(await currentHolder(db), undefined); // released
  } finally {
    await db.close();
  }
  await assertRejects(
    () => runner.start("drop_tables", { trigger: "api", actor: "x" }),
    NotFoundError,
  );
});

engineTest(
  "a failing step is recorded as an error, the next step still runs, the lock is released",
  async (_t, e) => {
    const open = await warehouseOf(e);
    const runner = new JobRunner({
      open,
      log: silentLogger,
      jobs: {
        load: () => Promise.reject(new Error("Cannot load X: disk full")),
        cleanup: instant({ partitions_deleted: 1 }),
      },
    });
    const run = await runner.run("pipeline", { trigger: "api", actor: "admin" });
    assert.deepEqual(run.outcome, "error");
    assert.deepEqual(run.error, "load: Cannot load X: disk full");
    // Retention runs whatever the load did (issue 17 item 1).
    assert.deepEqual(run.counts, { partitions_deleted: 1 });
    assert.deepEqual(
      (await runner.run("cleanup", { trigger: "api", actor: "admin" })).outcome,
      "ok",
    );
  },
);

engineTest(
  "a concurrent manual run is refused while one is in progress, also from another process",
  async (_t, e) => {
    const open = await warehouseOf(e);
    const gated = gatedJob({ rows_loaded: 1 });
    const jobs = { load: gated.fn, cleanup: instant({}) };
    const runner = new JobRunner({ open, log: silentLogger, jobs });
    // Another process on the same warehouse: another runner with another pid.
    const other = new JobRunner({
      open,
      log: silentLogger,
      jobs,
      lock: { pid: Deno.pid + 1_000_000, isAlive: () => true },
    });

    const first = await runner.start("pipeline", { trigger: "schedule", actor: "scheduler" });
    await gated.running;
    await assertRejects(
      () => runner.start("load", { trigger: "api", actor: "admin" }),
      ConflictError,
    );
    const error = await assertRejects(
      () => other.start("cleanup", { trigger: "cli", actor: "cli" }),
      ConflictError,
    );
    assert(error.message.includes(`pid ${Deno.pid}`), error.message);

    gated.release();
    assert.deepEqual((await first.done).outcome, "ok");
    assert.deepEqual((await other.run("cleanup", { trigger: "cli", actor: "cli" })).outcome, "ok");
  },
);

engineTest("shutdown interrupts the running job and waits for it", async (_t, e) => {
  const open = await warehouseOf(e);
  const runner = new JobRunner({
    open,
    log: silentLogger,
    jobs: {
      load: ({ signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("rolled back")))
        ),
      cleanup: instant({}),
    },
  });
  const started = await runner.start("pipeline", { trigger: "schedule", actor: "scheduler" });
  await runner.shutdown();
  const run = await started.done;
  assert.deepEqual(run.outcome, "interrupted");
  await assertRejects(() => runner.start("load", { trigger: "api", actor: "a" }), ConflictError);
});

engineTest("the scheduled handler runs the pipeline and records its run", async (_t, e) => {
  const open = await warehouseOf(e);
  const runner = new JobRunner({
    open,
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
  const db = await open();
  try {
    const run = (await lastRuns(db)).pipeline!;
    assert.deepEqual(run.trigger, "schedule");
    assert.deepEqual(run.actor, "scheduler");
    assert.deepEqual(run.outcome, "ok");
    assert.deepEqual(run.counts.rows_loaded, 3);
  } finally {
    await db.close();
  }

  // A tick while a manual run holds the lock is skipped, not failed, and not recorded.
  const gated = gatedJob({});
  const busy = new JobRunner({
    open,
    log: silentLogger,
    jobs: { load: gated.fn, cleanup: instant({}) },
  });
  const manual = await busy.start("load", { trigger: "api", actor: "admin" });
  await gated.running;
  await registered[0].handler();
  gated.release();
  await manual.done;
  const db2 = await open();
  try {
    assert.deepEqual((await lastRuns(db2)).pipeline!.id, 1);
  } finally {
    await db2.close();
  }
  stop.abort();
});

Deno.test("the real Deno.cron is registered with the configured schedule", async () => {
  const runner = new JobRunner({
    open: await warehouseOf({ name: "sqlite", env: {} }),
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
