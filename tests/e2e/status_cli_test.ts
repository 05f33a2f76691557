import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { JobRunner } from "../../src/scheduler/runner.ts";
import { warehouseJobs } from "../../src/service/jobs.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { envOf, runMain, tempDir, testConfig, uniqueName } from "../helpers/env.ts";
import { ORDERS, ordersFeed } from "../routes/fixtures.ts";
import { writeFeedsFile } from "./service_helpers.ts";

Deno.test("`status` prints what GET /status shows, as a table or --json; Kafka down still exits 0", async () => {
  const feed = uniqueName("STATUS_ORDERS");
  const feedsFile = await writeFeedsFile(await tempDir("status-"), [ordersFeed(feed)]);
  const config = await testConfig({ env: { FEEDS_FILE: feedsFile } });
  const path = partitionPath(config.dataLakeDir, feed, "2026-11-20");
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, ORDERS.map((o) => JSON.stringify(o) + "\n").join(""));
  const runner = new JobRunner({
    open: () => openWarehouseFromConfig(config),
    log: silentLogger,
    jobs: warehouseJobs(config),
  });
  assert.equal((await runner.run("load", { trigger: "cli", actor: "test" })).outcome, "ok");

  const json = await runMain(["status", "--json"], envOf(config));
  assert.equal(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout);
  assert.equal(status.kafka.connected, true);
  const load = status.jobs.find((j: { job: string }) => j.job === "load");
  assert.ok(load.lastRun.counts.rows_loaded >= ORDERS.length);
  const ours = status.feeds.find((f: { name: string }) => f.name === feed);
  assert.deepEqual([ours.warehouseRows, ours.lake.files], [ORDERS.length, 1]);

  const text = await runMain(["status"], envOf(config));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Kafka +up /m);
  assert.match(text.stdout, /^load +\S+ +ok /m);
  assert.match(
    text.stdout,
    new RegExp(`^${feed} +stream +\\S+ +1 +[\\d.]+ k?B +${ORDERS.length}$`, "m"),
  );

  const down = await runMain(["status"], { ...envOf(config), KAFKA_BROKERS: "127.0.0.1:1" });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /^Kafka +DOWN +127\.0\.0\.1:1/m);
  assert.match(down.stdout, new RegExp(`^${feed} +stream +\\? +1 `, "m"));
});
