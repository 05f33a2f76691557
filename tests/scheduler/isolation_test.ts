/**
 * Issue 17 item 1: a feed's failure never stops other feeds or retention. The scheduled pipeline
 * (the real JobRunner with the real load and cleanup jobs) loads every feed it can, runs the
 * cleanup whatever the load did, and reports each failure with its cause, on both engines.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import { JobRunner } from "../../src/scheduler/runner.ts";
import { warehouseJobs } from "../../src/service/jobs.ts";
import { runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { tempDir, testConfig, uniqueName } from "../helpers/env.ts";
import { feedsFile } from "../hostile/_helpers.ts";
import { writePartition } from "../warehouse/lake.ts";

function capture() {
  const events: Record<string, unknown>[] = [];
  const log = new Logger({
    level: "info",
    sink: { write: (line) => events.push(JSON.parse(line)) },
  });
  return { log, events };
}

/** Three stream feeds; the middle one's table is a view nothing can be inserted into. */
async function setup(env: Record<string, string>) {
  const [a, broken, c] = ["HI_A", "HI_BROKEN", "HI_C"].map(uniqueName);
  const dir = await tempDir("isolation-");
  const file = await feedsFile(
    dir,
    [a, broken, c].map((name) => ({
      name,
      kind: "stream",
      primaryKey: ["ID"],
      timeField: "AT",
      columns: { ID: "TEXT", AT: "TEXT" },
    })),
  );
  const config = await testConfig({ env: { ...env, FEEDS_FILE: file, RETENTION_DAYS: "30" } });
  const today = new Date().toISOString().slice(0, 10);
  const at = `${today}T00:00:00Z`;
  for (const name of [a, broken, c]) {
    await writePartition(config, name, today, [{ ID: "1", AT: at }, { ID: "2", AT: at }]);
  }
  // An old partition of the last feed: retention must remove it even though a load failed.
  const old = await writePartition(config, c, "2001-01-01", [{
    ID: "0",
    AT: "2001-01-01T00:00:00Z",
  }]);
  const w = await openWarehouseFromConfig(config);
  try {
    await ensureGovernanceSchema(w); // what serve does before its first job
    await w.run(`CREATE VIEW "${broken}" AS SELECT 'x' AS "ID", 'y' AS "AT"`);
  } finally {
    await w.close();
  }
  return {
    config,
    a,
    broken,
    c,
    old,
    cleanup: () => Promise.all([dir, config.root].map((d) => Deno.remove(d, { recursive: true }))),
  };
}

engineTest(
  "load: a feed that fails does not stop the others; the error names it and its cause",
  async (_t, e) => {
    const s = await setup(e.env);
    const w = await openWarehouseFromConfig(s.config);
    const { log, events } = capture();
    try {
      const error = await runLoad({ config: s.config, warehouse: w, log }).then(
        () => undefined,
        (error) => error as Error,
      );
      assert.ok(error, "the load reports the failure");
      assert.match(
        error.message,
        new RegExp(`Cannot load ${s.broken}\\b.*(view|insertable|updatable)`, "i"),
      );
      assert.doesNotMatch(error.message, new RegExp(`${s.a}|${s.c}`));
      for (const name of [s.a, s.c]) {
        const n = (await w.get(`SELECT COUNT(*) AS n FROM "${name}"`))?.n;
        assert.equal(Number(n), name === s.c ? 3 : 2, `${name} loaded`);
      }
      const failed = events.filter((event) => event.event === "warehouse.feed_failed");
      assert.deepEqual(failed.map((event) => event.feed), [s.broken]);
      assert.match(String(failed[0].error), /view|insertable|updatable/i);
    } finally {
      await w.close();
      await s.cleanup();
    }
  },
);

engineTest(
  "pipeline: a failed load still runs every other feed and retention; the run says why",
  async (_t, e) => {
    const s = await setup(e.env);
    const { log, events } = capture();
    const runner = new JobRunner({
      open: () => openWarehouseFromConfig(s.config),
      log,
      jobs: warehouseJobs(s.config),
    });
    try {
      const run = await runner.run("pipeline", { trigger: "schedule", actor: "scheduler" });
      assert.equal(run.outcome, "error");
      assert.match(
        run.error ?? "",
        new RegExp(`Cannot load ${s.broken}\\b.*(view|insertable|updatable)`, "i"),
      );
      assert.equal(
        await Deno.stat(s.old).then(() => true, () => false),
        false,
        `retention ran after the failed load: ${run.error} ${JSON.stringify(run.counts)}`,
      );
      // Both steps fail on the broken feed, each saying so; both did the rest of their work.
      assert.match(run.error ?? "", new RegExp(`cleanup: Cannot clean ${s.broken}\\b`));
      const failedSteps = events.filter((event) => event.event === "pipeline.step_failed");
      assert.deepEqual(failedSteps.map((event) => event.step), ["load", "cleanup"]);
      const feedFailures = events.filter((event) =>
        event.event === "warehouse.feed_failed" || event.event === "retention.feed_failed"
      );
      assert.deepEqual(feedFailures.map((event) => event.feed), [s.broken, s.broken]);
      const w = await openWarehouseFromConfig(s.config);
      try {
        assert.equal(Number((await w.get(`SELECT COUNT(*) AS n FROM "${s.a}"`))?.n), 2);
      } finally {
        await w.close();
      }
    } finally {
      await runner.shutdown();
      await s.cleanup();
    }
  },
);

engineTest(
  "load: a declared table the engine cannot make fails alone; the other feeds load",
  async (_t, e) => {
    const [wide, fine] = ["HI_WIDE", "HI_FINE"].map(uniqueName);
    const dir = await tempDir("isolation-");
    // More columns than SQLite takes (2,000), a wider row than InnoDB takes (8,126 bytes).
    const columns: Record<string, string> = { ID: "TEXT" };
    for (let i = 0; i < 2100; i++) columns[`C${i}`] = "TEXT";
    const file = await feedsFile(dir, [
      { name: wide, kind: "stream", primaryKey: ["ID"], columns },
      { name: fine, kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT" } },
    ]);
    const config = await testConfig({ env: { ...e.env, FEEDS_FILE: file } });
    const w = await openWarehouseFromConfig(config);
    const { log, events } = capture();
    try {
      for (const name of [wide, fine]) {
        await writePartition(config, name, "2026-11-20", [{
          ID: "1",
        }]);
      }
      const error = await runLoad({ config, warehouse: w, log, feeds: [wide, fine] }).then(
        () => undefined,
        (error) => error as Error,
      );
      assert.match(error?.message ?? "", new RegExp(`Cannot prepare the table of ${wide}\\b`));
      assert.equal(Number((await w.get(`SELECT COUNT(*) AS n FROM "${fine}"`))?.n), 1);
      const failed = events.filter((event) => event.event === "warehouse.feed_failed");
      assert.deepEqual(failed.map((event) => event.feed), [wide]);
    } finally {
      await w.close();
      await Promise.all([dir, config.root].map((d) => Deno.remove(d, { recursive: true })));
    }
  },
);
