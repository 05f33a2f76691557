import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";

function capture(pretty: boolean) {
  const lines: string[] = [];
  const log = new Logger({ pretty, level: "debug", sink: { write: (line) => lines.push(line) } });
  return { log, lines };
}

Deno.test("logger: JSON lines carry the event name and fields; secret-looking fields are redacted", () => {
  const { log, lines } = capture(false);
  log.child({ component: "api" }).info("api.call", {
    status: 200,
    token: "s3cret-token",
    adminToken: "admin-s3cret",
    ANONYMIZATION_KEY: "key-s3cret",
    authorization: "Bearer s3cret",
  });
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]);
  assert.equal(event.event, "api.call");
  assert.equal(event.component, "api");
  assert.equal(event.status, 200);
  assert.equal(event.level, "info");
  assert.doesNotMatch(lines[0], /s3cret/);
  assert.equal(event.token, "[redacted]");
});

Deno.test("logger: pretty lines on a terminal are short, redact too, and respect the level", () => {
  const { log, lines } = capture(true);
  log.warn("lake.recovered", { file: "A/2026-01-01/A_2026-01-01.jsonl", password: "p4ss" });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^\d\d:\d\d:\d\d WARN lake\.recovered file=A\/2026-01-01\/A_2026-01-01\.jsonl/,
  );
  assert.doesNotMatch(lines[0], /p4ss/);

  const quiet = new Logger({ level: "warn", sink: { write: (line) => lines.push(line) } });
  quiet.info("not.shown");
  assert.equal(lines.length, 1);
});

/** A logger at the default level (info), as `deno task dev` runs it. */
function terminal() {
  const lines: string[] = [];
  const log = new Logger({
    pretty: true,
    level: "info",
    sink: { write: (line) => lines.push(line) },
  });
  return { log, lines };
}

function jsonLines() {
  const lines: string[] = [];
  const log = new Logger({
    pretty: false,
    level: "info",
    sink: { write: (line) => lines.push(line) },
  });
  return { log, lines };
}

Deno.test("logger: on a terminal, stopping prints one short line per feed that moved; JSON keeps every counter", () => {
  const stats: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 14; i++) {
    stats[`FEED_NUMBER_${i}`] = {
      written: i % 3 === 0 ? 0 : 100 + i,
      rejected: i === 4 ? 2 : 0,
      ignored: 0,
      lastBatchAt: "2026-12-06T12:17:06.539Z",
    };
  }
  const pretty = terminal();
  pretty.log.info("lake.consumer_stopped", { stats });
  pretty.log.info("processor.stopped", {
    recordsIn: 147,
    out: { A: 147, B: 100 },
    rejected: 1,
    batches: 133,
  });
  const lines = pretty.lines.join("\n").split("\n");
  assert.match(lines[0], /■ lake: 9 feeds written this run$/);
  const feedLines = lines.slice(1, -1);
  assert.equal(feedLines.length, 9, "the five feeds that moved nothing are left out");
  assert.match(feedLines[0], /^\d\d:\d\d:\d\d {5}FEED_NUMBER_1 {3}101 written$/);
  assert.ok(feedLines.some((line) => /FEED_NUMBER_4 +104 written, 2 rejected$/.test(line)));
  assert.match(lines.at(-1)!, /■ processor: 147 in → 247 out, 1 rejected$/);
  for (const line of lines) assert.ok(line.length <= 80, `short: ${line}`);

  const idle = terminal();
  idle.log.info("lake.consumer_stopped", { stats: { A: { written: 0, rejected: 0, ignored: 0 } } });
  assert.match(idle.lines[0], /■ lake: nothing written this run$/);

  const json = jsonLines();
  json.log.info("lake.consumer_stopped", { stats });
  assert.equal(json.lines.length, 1);
  assert.deepEqual(JSON.parse(json.lines[0]).stats, stats, "every counter, for machines");
});
