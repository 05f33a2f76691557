/**
 * A one-line progress display for long jobs on a terminal: a bar when the total is known, the
 * amount in its unit (kB, MB or GB for bytes), the rate (MB/s, rows/s) and an ETA. It is drawn as the
 * status line of src/core/terminal.ts, so log lines printed meanwhile never cut into it. Off a
 * terminal it does nothing: the structured log lines carry the counts there.
 */
import { stderrTerminal, type Terminal } from "./terminal.ts";

export interface Progress {
  /** `done` in the display's unit; `items` (optional) is a count of rows for a rows/s rate. */
  update(done: number, detail?: string, items?: number): void;
  finish(): void;
}

/** What `done` and `total` count: bytes are shown as MB and MB/s. */
export type ProgressUnit = "bytes" | "records" | "rows" | "lines";

export interface ProgressOptions {
  unit?: ProgressUnit;
  /** Where to draw (default: stderr, and only when stderr is a terminal). */
  terminal?: Terminal;
  /** Milliseconds since the start (default: performance.now()). */
  now?: () => number;
}

const noProgress: Progress = { update() {}, finish() {} };
/** At most ten repaints a second. */
const REPAINT_MS = 100;

/** `total` is in the unit (bytes by default, as the warehouse loader counts). */
export function createProgress(
  label: string,
  total?: number,
  options: ProgressUnit | ProgressOptions = {},
): Progress {
  const opts = typeof options === "string" ? { unit: options } : options;
  if (!opts.terminal && !Deno.stderr.isTerminal()) return noProgress;
  const terminal = opts.terminal ?? stderrTerminal;
  const unit = opts.unit ?? "bytes";
  const now = opts.now ?? (() => performance.now());
  const started = now();
  let last = -Infinity;
  return {
    update(done, detail = "", items) {
      const t = now();
      if (t - last < REPAINT_MS) return;
      last = t;
      terminal.status(progressLine(label, done, total, unit, (t - started) / 1000, detail, items));
    },
    finish() {
      terminal.clearStatus();
    },
  };
}

/** The text of one repaint (exported for tests). */
export function progressLine(
  label: string,
  done: number,
  total: number | undefined,
  unit: ProgressUnit,
  seconds: number,
  detail = "",
  items?: number,
): string {
  const secs = Math.max(seconds, 0.001);
  const rate = done / secs;
  const parts = [label];
  if (total && total > 0) {
    const fraction = Math.min(Math.max(done / total, 0), 1);
    parts.push(`${bar(fraction)} ${(fraction * 100).toFixed(0).padStart(3)}%`);
    parts.push(`${amount(done, unit)} / ${amount(total, unit)}`);
  } else {
    parts.push(amount(done, unit));
  }
  parts.push(unit === "bytes" ? `${bytesText(rate)}/s` : `${Math.round(rate)} ${unit}/s`);
  if (items !== undefined) parts.push(`${Math.round(items / secs)} rows/s`);
  if (total && total > done && rate > 0) parts.push(`ETA ${duration((total - done) / rate)}`);
  if (detail) parts.push(detail);
  return parts.join("  ");
}

function amount(value: number, unit: ProgressUnit): string {
  return unit === "bytes" ? bytesText(value) : `${Math.round(value)} ${unit}`;
}

/** MB (or kB below one MB, GB from a thousand MB), two to three significant digits. */
function bytesText(bytes: number): string {
  const [value, suffix] = bytes >= 1e9
    ? [bytes / 1e9, "GB"]
    : bytes >= 1e6
    ? [bytes / 1e6, "MB"]
    : [bytes / 1e3, "kB"];
  return `${
    value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
  } ${suffix}`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function bar(fraction: number): string {
  const width = 20;
  const filled = Math.round(fraction * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}
