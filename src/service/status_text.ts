/** The `status` command's table-ish text: the same facts as GET /status, for people. */
import type { ServiceStatus } from "./status.ts";

export function formatStatus(status: ServiceStatus): string[] {
  const lines: string[] = [];
  const k = status.kafka;
  lines.push(
    `Kafka      ${k.connected ? "up" : "DOWN"}  ${k.brokers.join(",")}  group ${k.groupId}${
      k.error ? `  (${k.error})` : ""
    }`,
  );
  const r = status.schemaRegistry;
  if (r) {
    lines.push(
      `Registry   ${r.connected ? "up" : "DOWN"}  ${r.url}${
        r.error ? `  (since ${r.since}: ${r.error}; registry feeds wait)` : ""
      }`,
    );
  }
  lines.push(
    `Running    ${
      status.running
        ? `${status.running.job} (pid ${status.running.pid} on ${status.running.host}, since ${status.running.acquiredAt})`
        : "no job"
    }`,
  );
  lines.push("");
  lines.push(row(["JOB", "LAST RUN", "OUTCOME", "SECONDS", "COUNTS", "NEXT RUN"], JOB_WIDTHS));
  for (const job of status.jobs) {
    const last = job.lastRun;
    const counts = last
      ? Object.entries(last.counts).filter(([, v]) => v !== 0).map(([key, v]) => `${key}=${v}`)
        .join(" ")
      : "";
    lines.push(row([
      job.job,
      last?.startedAt ?? "never",
      last?.outcome ?? "-",
      last?.durationMs == null ? "-" : (last.durationMs / 1000).toFixed(2),
      counts || "-",
      job.nextRun ? `${job.nextRun} (${job.schedule})` : "with the pipeline / on demand",
    ], JOB_WIDTHS));
  }
  lines.push("");
  lines.push(
    row(["FEED", "KIND", "LAG", "LAKE FILES", "LAKE SIZE", "WAREHOUSE ROWS"], FEED_WIDTHS),
  );
  for (const feed of status.feeds) {
    lines.push(row([
      feed.name,
      feed.kind,
      feed.lag === null ? "?" : String(feed.lag),
      String(feed.lake.files),
      size(feed.lake.bytes),
      String(feed.warehouseRows),
    ], FEED_WIDTHS));
    if (feed.error) lines.push(`  ${feed.name} cannot be read: ${feed.error}`);
  }
  return lines;
}

const JOB_WIDTHS = [9, 25, 12, 8, 40, 0];
const FEED_WIDTHS = [30, 7, 8, 11, 12, 0];

/** Bytes as people read them (decimal units, like the progress display). */
function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes, unit = -1;
  do {
    value /= 1000;
    unit++;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => widths[i] ? cell.padEnd(widths[i]) : cell).join(" ").trimEnd();
}
