/**
 * GET /metrics (read on *): Prometheus text. Consumed and rejected records per feed (this
 * process's consumer), rows loaded per feed, lag per feed, warehouse rows, last job durations.
 */
import { Hono } from "hono";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../src/metrics/registry.ts";
import { lastFinishedRuns } from "../src/scheduler/store.ts";
import { lagPerFeed } from "../src/service/status.ts";
import { rowCounts } from "../src/warehouse/query.ts";
import { requireAccount, requireLevel } from "./auth.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

export function metricsRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireAccount, requireLevel("read"));
  app.get("/", async (c) => {
    const registry = await collectMetrics(deps);
    return c.body(registry.render(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}

export async function collectMetrics(deps: AppDeps): Promise<MetricsRegistry> {
  const { config, warehouse, stats } = deps;
  const m = new MetricsRegistry()
    .declare("datalake_records_consumed_total", "counter", "Records the lake consumer wrote")
    .declare("datalake_records_rejected_total", "counter", "Records the lake quarantined")
    .declare("datalake_rows_loaded_total", "counter", "Warehouse rows inserted or updated")
    .declare("datalake_rows_rejected_total", "counter", "Lake lines the loader rejected")
    .declare("datalake_consumer_lag", "gauge", "Messages not yet in the lake")
    .declare("datalake_warehouse_rows", "gauge", "Rows in the warehouse table")
    .declare("datalake_processor_records_in_total", "counter", "Raw records the processor read")
    .declare("datalake_processor_rejected_total", "counter", "Raw records sent to quarantine")
    .declare("datalake_processor_records_out_total", "counter", "Records produced per topic")
    .declare("datalake_kafka_up", "gauge", "1 when Kafka answered the last scrape")
    .declare("datalake_job_last_duration_seconds", "gauge", "Duration of the last run")
    .declare("datalake_job_last_success", "gauge", "1 when the last run succeeded");

  const lake = stats?.lake?.() ?? {};
  const lag = await lagPerFeed({
    config,
    kafka: deps.kafka,
    kafkaTimeoutMs: deps.kafkaTimeoutMs,
  });
  const rows = await rowCounts(warehouse, config.feeds);
  for (const feed of config.feeds) {
    const labels = { feed: feed.name };
    m.set("datalake_records_consumed_total", labels, lake[feed.name]?.consumed ?? 0);
    m.set("datalake_records_rejected_total", labels, lake[feed.name]?.rejected ?? 0);
    m.set("datalake_rows_loaded_total", labels, stats?.rowsLoaded.get(feed.name) ?? 0);
    m.set("datalake_rows_rejected_total", labels, stats?.rowsRejected.get(feed.name) ?? 0);
    const feedLag = lag.byFeed.get(feed.name);
    if (feedLag !== undefined) m.set("datalake_consumer_lag", labels, feedLag);
    m.set("datalake_warehouse_rows", labels, rows[feed.name] ?? 0);
  }
  const processor = stats?.processor?.();
  if (processor) {
    m.set("datalake_processor_records_in_total", {}, processor.recordsIn);
    m.set("datalake_processor_rejected_total", {}, processor.rejected);
    for (const [topic, n] of Object.entries(processor.out)) {
      m.set("datalake_processor_records_out_total", { topic }, n);
    }
  }
  m.set("datalake_kafka_up", {}, lag.connected ? 1 : 0);
  for (const run of await lastFinishedRuns(warehouse)) {
    m.set("datalake_job_last_duration_seconds", { job: run.job }, (run.durationMs ?? 0) / 1000);
    m.set("datalake_job_last_success", { job: run.job }, run.outcome === "ok" ? 1 : 0);
  }
  return m;
}
