/**
 * How events read on a terminal: the story of a run in a few calm lines. An event with a format
 * here prints that line; one listed as detail prints nothing at info (JSON logs and LOG_LEVEL=debug
 * keep it); any other event prints `event key=value …`. Only presentation lives here.
 */
import type { Fields, Level } from "./log_types.ts";

type Format = (f: Fields) => string | null;

const num = (value: unknown) => (typeof value === "number" ? value : Number(value ?? 0) || 0);
const secs = (ms: unknown) => `${(num(ms) / 1000).toFixed(2)} s`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Feeds named in the 30 s flow line, so it fits 160 columns (JSON logs carry every feed). */
const FLOW_FEEDS = 2;

/** Events told by the start lines or the closing line of a run: shown at debug only. */
const DETAIL = new Set([
  "lake.consumer_started",
  "processor.started",
  "processor.restored",
  "schedule.registered",
  "kafka.topics_created",
  "pipeline.start",
  "pipeline.step_finished",
  "retention.done",
  "governance.admin_bootstrap",
]);

const FORMATS: Record<string, Format> = {
  "serve.started": (f) =>
    [
      `● broker     ${f.brokers} (consumer group ${f.group})`,
      `● lake       ${f.lake}`,
      `● warehouse  ${f.warehouse}`,
      `● pipeline   "${f.schedule}", next run ${f.nextRun}${f.processor ? "" : " (processor off)"}`,
    ].join("\n"),
  "serve.listening": (f) => {
    const url = String(f.url).replace("//0.0.0.0:", "//localhost:");
    return `● API        ${url}   dashboard ${url}/`;
  },
  "warehouse.table_loaded": (f) => {
    if (!num(f.inserted) && !num(f.updated) && !num(f.deleted) && !num(f.rejected)) return null;
    const extra = [
      num(f.deleted) ? `${num(f.deleted)} deleted` : "",
      num(f.rejected) ? `${num(f.rejected)} rejected` : "",
      num(f.inferred) ? `${num(f.inferred)} inferred` : "",
    ].filter(Boolean).join(", ");
    return `  ✓ ${f.feed}: ${num(f.inserted)} new, ${num(f.updated)} updated${
      extra ? ", " + extra : ""
    } (${secs(f.ms)})`;
  },
  // Inside a pipeline run the closing line says it; a `load` command alone closes with this.
  "warehouse.load_done": (f) =>
    f.step ? null : `✓ load: ${num(f.inserted)} new, ${num(f.updated)} updated, ` +
      `${num(f.deleted)} deleted, ${num(f.rejected)} rejected from ${
        plural(num(f.files), "file")
      } (${secs(f.ms)})`,
  "retention.feed_cleaned": (f) =>
    `  ✓ ${f.feed}: retention removed ${plural(num(f.partitions), "partition")} ` +
    `and ${plural(num(f.rows), "row")} (kept from ${f.keepFrom})`,
  "pipeline.finished": (f) => `✓ ${f.message ?? "pipeline finished"}`,
  "pipeline.failed": (f) => `✗ ${f.message ?? "pipeline failed"}${f.error ? ": " + f.error : ""}`,
  "serve.flow": (f) => {
    // The busiest feeds by name, the rest summed, so the line fits a terminal row.
    const moved = Object.entries((f.lake ?? {}) as Record<string, number>)
      .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const named = moved.slice(0, FLOW_FEEDS).map(([feed, n]) => `${feed} ${n}`);
    const rest = moved.slice(FLOW_FEEDS);
    if (rest.length) {
      named.push(`${plural(rest.length, "other feed")} ${rest.reduce((s, [, n]) => s + n, 0)}`);
    }
    const parts = [
      `lake +${num(f.lakeTotal)}${named.length ? ` (${named.join(", ")})` : ""}`,
      f.processorIn === undefined
        ? ""
        : `processor ${num(f.processorIn)} in → ${num(f.processorOut)} out`,
      `quarantined ${num(f.quarantined)}`,
    ].filter(Boolean);
    return `↻ last ${Math.round(num(f.seconds))} s: ${parts.join(" · ")}`;
  },
  // On Ctrl-C: one short line per feed that moved, not the counters as one JSON object.
  "lake.consumer_stopped": (f) => {
    const stats = (f.stats ?? {}) as Record<string, Record<string, unknown>>;
    const moved = Object.entries(stats).filter(([, c]) =>
      num(c.written) || num(c.rejected) || num(c.ignored)
    );
    if (moved.length === 0) return "■ lake: nothing written this run";
    const width = Math.max(...moved.map(([feed]) => feed.length));
    return [
      `■ lake: ${plural(moved.length, "feed")} written this run`,
      ...moved.map(([feed, c]) => {
        const extra = [
          num(c.rejected) ? `${num(c.rejected)} rejected` : "",
          num(c.ignored) ? `${num(c.ignored)} ignored` : "",
        ].filter(Boolean).join(", ");
        return `    ${feed.padEnd(width)}  ${num(c.written)} written${extra ? ", " + extra : ""}`;
      }),
    ].join("\n");
  },
  "processor.stopped": (f) => {
    const out = Object.values((f.out ?? {}) as Record<string, number>).reduce((a, n) => a + n, 0);
    return `■ processor: ${num(f.recordsIn)} in → ${out} out, ${num(f.rejected)} rejected`;
  },
  "serve.stopping": (f) => `■ stopping (${f.reason})`,
  "serve.stopped": () => "■ stopped",
};

/**
 * The terminal line for an event: a string, or null when it is detail not shown at this level.
 * `verbose` (LOG_LEVEL=debug) shows every event in the plain key=value form.
 */
export function humanLine(
  level: Level,
  event: string,
  fields: Fields,
  verbose: boolean,
): string | null {
  const time = new Date().toISOString().slice(11, 19);
  if (!verbose && level === "info") {
    if (DETAIL.has(event)) return null;
    const format = FORMATS[event];
    if (format) {
      const text = format(fields);
      return text === null ? null : prefix(time, text);
    }
  }
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`);
  const tag = level === "info" ? "" : `${level.toUpperCase()} `;
  return prefix(time, `${tag}${event}${parts.length ? " " + parts.join(" ") : ""}`);
}

function prefix(time: string, text: string): string {
  return text.split("\n").map((line) => `${time} ${line}`).join("\n");
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}
