/**
 * A one-line progress display for long jobs on a terminal. Off a terminal it does nothing: the
 * structured log lines carry the counts there.
 */
const encoder = new TextEncoder();

export interface Progress {
  update(done: number, detail?: string): void;
  finish(): void;
}

const noProgress: Progress = { update() {}, finish() {} };

export function createProgress(label: string, total?: number): Progress {
  if (!Deno.stderr.isTerminal()) return noProgress;
  let last = 0;
  const started = performance.now();
  return {
    update(done, detail = "") {
      const now = performance.now();
      if (now - last < 100) return; // at most ten repaints a second
      last = now;
      const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
      const head = total ? `${bar(done / total)} ${done}/${total}` : `${done}`;
      write(`\r\x1b[2K${label} ${head} (${rate}/s) ${detail}`);
    },
    finish() {
      write("\r\x1b[2K");
    },
  };
}

function bar(fraction: number): string {
  const width = 24;
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

function write(text: string) {
  Deno.stderr.writeSync(encoder.encode(text));
}
