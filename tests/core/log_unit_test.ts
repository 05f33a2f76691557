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
