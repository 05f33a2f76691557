/**
 * The operator's view of a running `serve`: one start report of what runs where, a sample of
 * the flow counters every few seconds (FlowHistory, for the dashboard), and every 30 s a
 * one-line summary of what moved (nothing is printed while nothing moves).
 */
import type { Config } from "../config/config.ts";
import { nextRun } from "../config/cron.ts";
import type { Logger } from "../core/log.ts";
import { FlowHistory, type FlowHistoryOptions, type FlowSample } from "./history.ts";
import type { ServiceStats } from "./stats.ts";

export interface FlowReportOptions extends FlowHistoryOptions {
  stats: ServiceStats;
  log: Logger;
  signal: AbortSignal;
  /** Milliseconds between summaries (default 30 s). */
  summaryMs?: number;
}

/** Logs `serve.started`: broker, lake, warehouse and schedule (the API logs its own URL). */
export function logStart(config: Config, log: Logger, processor: boolean): void {
  log.info("serve.started", {
    brokers: config.kafka.brokers.join(","),
    group: config.kafka.groupId,
    lake: config.dataLakeDir,
    warehouse: config.warehousePath,
    schedule: config.pipelineSchedule,
    nextRun: nextRun(config.pipelineSchedule, new Date()).toISOString(),
    processor,
    feeds: config.feeds.length,
  });
}

/** Starts sampling and summaries until `signal` aborts; returns the history for the API. */
export function startFlowReport(options: FlowReportOptions): FlowHistory {
  const history = new FlowHistory(options.stats, options);
  const summaryMs = options.summaryMs ?? 30_000;
  let lastSummary = history.sample();
  const sampler = setInterval(() => history.sample(), history.intervalMs);
  const summary = setInterval(() => {
    const now = history.samples().at(-1) ?? lastSummary;
    const fields = flowSummary(lastSummary, now, options.stats.processor !== undefined);
    lastSummary = now;
    if (fields) options.log.info("serve.flow", fields);
  }, summaryMs);
  // The timers never keep the process alive on their own.
  Deno.unrefTimer(sampler);
  Deno.unrefTimer(summary);
  const stop = () => {
    clearInterval(sampler);
    clearInterval(summary);
  };
  if (options.signal.aborted) stop();
  options.signal.addEventListener("abort", stop, { once: true });
  return history;
}

/** The fields of one `serve.flow` line between two samples, or null when nothing moved. */
export function flowSummary(
  from: FlowSample,
  to: FlowSample,
  processor: boolean,
): Record<string, unknown> | null {
  const lake: Record<string, number> = {};
  let lakeTotal = 0, quarantined = 0;
  for (const [feed, n] of Object.entries(to.lake)) {
    lake[feed] = n - (from.lake[feed] ?? 0);
    lakeTotal += lake[feed];
    quarantined += (to.quarantined[feed] ?? 0) - (from.quarantined[feed] ?? 0);
  }
  const processorIn = to.processorIn - from.processorIn;
  const processorOut = to.processorOut - from.processorOut;
  quarantined += to.processorRejected - from.processorRejected;
  if (lakeTotal === 0 && processorIn === 0 && quarantined === 0) return null;
  return {
    seconds: Math.round((to.t - from.t) / 1000),
    lakeTotal,
    lake,
    ...(processor ? { processorIn, processorOut } : {}),
    quarantined,
  };
}
