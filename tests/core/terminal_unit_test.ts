import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { createProgress, progressLine } from "../../src/core/progress.ts";
import { Terminal } from "../../src/core/terminal.ts";

function screen(columns = 120) {
  const decoder = new TextDecoder();
  let out = "";
  const terminal = new Terminal({
    write: (b) => (out += decoder.decode(b)),
    columns: () => columns,
  });
  return { terminal, text: () => out };
}

Deno.test("terminal: a log line clears the progress line, prints whole, and the bar comes back", () => {
  const { terminal, text } = screen();
  terminal.status("load [####] 1.00 MB");
  terminal.line("12:00:00 ✓ ORDERS: 3 new, 0 updated (0.01 s)");
  assert.equal(
    text(),
    "\r\x1b[2Kload [####] 1.00 MB" +
      "\r\x1b[2K12:00:00 ✓ ORDERS: 3 new, 0 updated (0.01 s)\n" +
      "load [####] 1.00 MB",
  );
  terminal.clearStatus();
  terminal.line("after");
  assert.ok(text().endsWith("load [####] 1.00 MB\r\x1b[2Kafter\n"));
});

Deno.test("terminal: the status line is cut to the width so it never wraps", () => {
  const { terminal, text } = screen(20);
  terminal.status("x".repeat(50));
  assert.equal(text(), "\r\x1b[2K" + "x".repeat(18) + "…");
});

Deno.test("progress: MB, MB/s, percent and an ETA for bytes; rows/s for counts", () => {
  const bytes = progressLine("TRANSACTIONS_USD", 3_765_202, 8_144_224, "bytes", 2);
  assert.match(bytes, /^TRANSACTIONS_USD {2}\[█+░+\] {2}46%/);
  assert.match(bytes, /3\.77 MB \/ 8\.14 MB/);
  assert.match(bytes, /1\.88 MB\/s/);
  assert.match(bytes, /ETA 3s/);
  assert.doesNotMatch(bytes, /3765202/);
  const rows = progressLine("produce", 500, 1000, "records", 10, "", 500);
  assert.match(rows, /500 records \/ 1000 records {2}50 records\/s {2}50 rows\/s {2}ETA 10s/);
  assert.match(
    progressLine("lake", 42, undefined, "records", 1),
    /^lake {2}42 records {2}42 records\/s$/,
  );
});

Deno.test("progress: drawn through the terminal, repaints at most ten a second, cleared by finish", () => {
  const { terminal, text } = screen();
  let now = 0;
  const progress = createProgress("load", 2_000_000, { terminal, now: () => now });
  now = 1000;
  progress.update(1_000_000, "A_2026-01-01.jsonl");
  now = 1050;
  progress.update(1_500_000); // too soon: not drawn
  assert.equal(text().split("\r\x1b[2K").length - 1, 1);
  assert.match(
    text(),
    /load {2}\[█{10}░{10}\] {2}50% {2}1\.00 MB \/ 2\.00 MB {2}1\.00 MB\/s {2}ETA 1s/,
  );
  progress.finish();
  assert.ok(text().endsWith("\r\x1b[2K"));
});

function capture(level: "info" | "debug") {
  const lines: string[] = [];
  const log = new Logger({ pretty: true, level, sink: { write: (line) => lines.push(line) } });
  return { log, lines };
}

Deno.test("logger on a terminal: a pipeline run reads as one line per table and a closing line", () => {
  const { log, lines } = capture("info");
  const run = log.child({ component: "scheduler", job: "pipeline", run_id: 7 });
  run.info("pipeline.start", { trigger: "schedule", actor: "schedule" });
  run.child({ step: "load" }).info("warehouse.table_loaded", {
    feed: "TRANSACTIONS_USD",
    files: 1,
    inserted: 153,
    updated: 12,
    deleted: 0,
    rejected: 0,
    inferred: 0,
    ms: 40,
  });
  run.child({ step: "load" }).info("warehouse.load_done", { inserted: 153, updated: 12, ms: 50 });
  run.info("pipeline.step_finished", { step: "load", seconds: 0.05 });
  run.info("pipeline.finished", {
    message: "Pipeline finished successfully: 165 rows loaded, 0 partitions deleted in 0.06 s",
    seconds: 0.06,
  });
  log.child({ component: "lake" }).debug("lake.batch_written", { feed: "USERS", written: 3 });
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /^\d\d:\d\d:\d\d {3}✓ TRANSACTIONS_USD: 153 new, 12 updated \(0\.04 s\)$/);
  assert.match(lines[1], /✓ Pipeline finished successfully: 165 rows loaded/);
});

Deno.test("logger on a terminal: the flow summary line; warnings always; debug shows everything", () => {
  const { log, lines } = capture("info");
  log.info("serve.flow", {
    seconds: 30,
    lakeTotal: 100,
    lake: { USERS: 30, TRANSACTIONS_USD: 60, CURRENCY_RATES: 0, A: 7, B: 2, C: 1 },
    processorIn: 60,
    processorOut: 300,
    quarantined: 1,
  });
  log.info("lake.consumer_started", { feeds: ["A"] }); // told by the start lines instead
  log.warn("processor.record_rejected", { reason: "unknown currency XYZ", token: "t0ps3cret" });
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /↻ last 30 s: lake \+100 \(TRANSACTIONS_USD 60, USERS 30, 3 other feeds 10\) · processor 60 in → 300 out · quarantined 1$/,
  );
  assert.match(
    lines[1],
    /^\d\d:\d\d:\d\d WARN processor\.record_rejected reason="unknown currency XYZ"/,
  );
  assert.doesNotMatch(lines[1], /t0ps3cret/);

  const verbose = capture("debug");
  verbose.log.info("lake.consumer_started", { feeds: ["A"] });
  verbose.log.debug("lake.batch_written", { feed: "A", written: 2 });
  assert.equal(verbose.lines.length, 2);
  assert.match(verbose.lines[1], /lake\.batch_written feed=A written=2/);
});

Deno.test("logger off a terminal: JSON keeps every event, including those the terminal hides", () => {
  const lines: string[] = [];
  const log = new Logger({ level: "info", sink: { write: (line) => lines.push(line) } });
  log.info("lake.consumer_started", { feeds: ["A"] });
  log.info("pipeline.step_finished", { step: "load" });
  assert.deepEqual(lines.map((l) => JSON.parse(l).event), [
    "lake.consumer_started",
    "pipeline.step_finished",
  ]);
});

Deno.test("progress: small and large byte counts get kB and GB", () => {
  assert.match(progressLine("A", 4_200, 9_000, "bytes", 1), /4\.20 kB \/ 9\.00 kB {2}4\.20 kB\/s/);
  assert.match(progressLine("A", 2.5e9, undefined, "bytes", 1), /2\.50 GB {2}2\.50 GB\/s/);
});
