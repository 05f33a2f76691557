import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { recentAudit } from "../../src/governance/audit.ts";
import type { CronFn } from "../../src/scheduler/schedule.ts";
import { lastRuns } from "../../src/scheduler/store.ts";
import { serve } from "../../app/serve.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { produceWithKcat, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { lakeLines, waitFor } from "../e2e/service_helpers.ts";
import { ordersFeed } from "../routes/fixtures.ts";
import { testWithKcat } from "../helpers/needs.ts";

testWithKcat(
  "serve: the scheduled pipeline loads the lake, records and audits its run, logs counts",
  async () => {
    const feed = uniqueName("SCHED_ORDERS");
    const config = await testConfig({
      feeds: [ordersFeed(feed)],
      env: { PORT: "0", PIPELINE_SCHEDULE: "*/3 * * * *" },
    });
    const kafka = testKafka();
    await kafka.ensureTopics([{ topic: feed, partitions: 1 }]);
    const n = 30;
    await produceWithKcat(
      feed,
      Array.from(
        { length: n },
        (_, i) =>
          JSON.stringify({
            ORDER_ID: `S${i}`,
            COUNTRY: "France",
            CREATED_AT: "2026-11-22T01:00:00Z",
          }),
      ),
    );

    const logs: Record<string, unknown>[] = [];
    const log = new Logger({ sink: { write: (line) => logs.push(JSON.parse(line)) } });
    const registered: { schedule: string; handler: () => Promise<void> }[] = [];
    const cron: CronFn = (_name, schedule, options, handler) => {
      registered.push({ schedule, handler });
      return new Promise((resolve) => options.signal?.addEventListener("abort", () => resolve()));
    };
    const stop = new AbortController();
    let port = 0;
    const running = serve({
      config,
      log,
      signal: stop.signal,
      process: false,
      cron,
      kafka,
      onListen: (p) => (port = p),
    });
    try {
      await waitFor(
        "the lake",
        async () =>
          (await lakeLines(config.dataLakeDir, feed, "2026-11-22")).length === n ? true : undefined,
      );
      assert.deepEqual(registered.map((r) => r.schedule), ["*/3 * * * *"]);
      await registered[0].handler(); // one tick of the schedule

      const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
      const pipeline = status.jobs.find((j: { job: string }) => j.job === "pipeline");
      assert.equal(pipeline.lastRun.outcome, "ok");
      assert.equal(pipeline.lastRun.trigger, "schedule");
      assert.equal(pipeline.lastRun.counts.rows_loaded, n);
      assert.equal(pipeline.schedule, "*/3 * * * *");
      assert.equal(status.feeds[0].warehouseRows, n);
      assert.equal(status.feeds[0].lag, 0);
    } finally {
      stop.abort();
      await running;
    }

    const db = await openWarehouseFromConfig(config);
    try {
      const run = (await lastRuns(db)).pipeline!;
      assert.equal(run.counts.rows_loaded, n);
      assert.ok(run.durationMs !== null && run.finishedAt !== null);
      const audited = await recentAudit(db, { action: "job.pipeline" });
      assert.equal(audited.length, 1);
      assert.equal(audited[0].actor, "scheduler");
      assert.equal(
        (audited[0].detail as { counts: { rows_loaded: number } }).counts.rows_loaded,
        n,
      );
    } finally {
      await db.close();
    }
    const start = logs.find((e) => e.event === "pipeline.start");
    const finished = logs.find((e) => e.event === "pipeline.finished");
    assert.match(String(start?.message), /^PIPELINE START/);
    assert.match(
      String(finished?.message),
      new RegExp(
        `^Pipeline finished successfully: ${n} rows loaded, 0 partitions deleted in [0-9.]+ s$`,
      ),
    );
    assert.ok(logs.some((e) => e.event === "serve.stopped"));
  },
);
