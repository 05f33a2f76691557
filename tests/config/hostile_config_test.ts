/**
 * Issue 10 items 9, 10 and 11 (exit codes): settings and feeds that pass a naive check but
 * cannot work are refused at start with one clear line, and `main.ts` exits 2 for bad usage,
 * 3 for bad configuration.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { runMain, tempDir } from "../helpers/env.ts";

function configWith(env: Record<string, string>, feeds?: unknown[]) {
  const map = new Map(Object.entries({ ...env, ...(feeds ? { FEEDS_FILE: "feeds.json" } : {}) }));
  return loadConfig({ get: (name) => map.get(name) }, {
    readTextFile: () => JSON.stringify({ feeds }),
  });
}

function refused(env: Record<string, string>, feeds: unknown[] | undefined, pattern: RegExp) {
  assert.throws(() => configWith(env, feeds), (error: Error) => {
    assert.ok(error instanceof ConfigError, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

const feed = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: "stream",
  primaryKey: ["ID"],
  ...extra,
});

Deno.test("config: FEEDS_FILE feeds named like the warehouse's own tables or SQLite's are refused", () => {
  for (const name of ["ACCOUNTS", "PERMISSIONS", "AUDIT_LOG", "JOB_RUNS", "JOB_LOCKS"]) {
    refused({}, [feed(name)], new RegExp(`"${name}" is reserved: .*warehouse's own tables`));
  }
  refused({}, [feed("SQLITE_MASTER2")], /"SQLITE_MASTER2" is reserved: SQLite keeps names/);
  refused(
    {},
    [feed("ORDERS", { primaryKey: ["_SOURCE_FILE"] })],
    /"_SOURCE_FILE" is a reserved name/,
  );
  refused({}, [feed("ORDERS", { timeField: "_LOADED_AT" })], /"_LOADED_AT" is a reserved name/);
  refused({}, [feed("ORDERS", { columns: { rowid: "INTEGER" } })], /"rowid" is a reserved name/);
  refused(
    {},
    [feed("ORDERS", { columns: { constructor: "TEXT" } })],
    /"constructor" is a reserved/,
  );
  assert.ok(configWith({}, [feed("ORDERS")]).feeds.some((f) => f.name === "ORDERS"));
});

Deno.test("config: a cron that never fires and an ADMIN_TOKEN no header can carry are refused", () => {
  for (const schedule of ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"]) {
    refused({ PIPELINE_SCHEDULE: schedule }, undefined, /PIPELINE_SCHEDULE .*never fires/);
  }
  assert.equal(configWith({ PIPELINE_SCHEDULE: "0 0 29 2 *" }).pipelineSchedule, "0 0 29 2 *");
  for (const token of ["has space-0123456789", "tab\there-0123456789", "naïve-0123456789"]) {
    refused({ ADMIN_TOKEN: token }, undefined, /ADMIN_TOKEN must be printable ASCII/);
  }
  refused({ ADMIN_TOKEN: "x".repeat(513) }, undefined, /ADMIN_TOKEN is 513 characters long/);
  assert.equal(configWith({ ADMIN_TOKEN: "x".repeat(512) }).adminToken?.length, 512);
});

Deno.test("config: EVENT_TIME_YEARS sets the accepted event times, checked", () => {
  assert.deepEqual(configWith({}).timeWindow, { minYear: 1970, maxYear: 2200 });
  assert.deepEqual(configWith({ EVENT_TIME_YEARS: "1900-2500" }).timeWindow, {
    minYear: 1900,
    maxYear: 2500,
  });
  const feeds = configWith({ EVENT_TIME_YEARS: "1900-2500" }).feeds;
  assert.ok(feeds.every((f) => f.timeWindow?.maxYear === 2500), "every feed carries it");
  for (const bad of ["2500-1900", "1970", "0-10000", "soon"]) {
    refused({ EVENT_TIME_YEARS: bad }, undefined, /EVENT_TIME_YEARS must be two years/);
  }
});

Deno.test("main.ts exit codes: 2 bad usage, 3 bad configuration, one clear line each", async () => {
  const root = await tempDir();
  try {
    const env = { DATA_LAKE_DIR: `${root}/lake`, WAREHOUSE_PATH: `${root}/w.db` };
    const usage = await runMain(["status", "--no-such-option"], env);
    assert.equal(usage.code, 2, usage.stderr);
    const token = await runMain(["status"], { ...env, ADMIN_TOKEN: "with space-0123456789" });
    assert.equal(token.code, 3, token.stderr);
    assert.match(token.stderr, /^error: ADMIN_TOKEN must be printable ASCII/m);
    const cron = await runMain(["status"], { ...env, PIPELINE_SCHEDULE: "0 0 31 2 *" });
    assert.equal(cron.code, 3, cron.stderr);
    assert.match(cron.stderr, /never fires/);
    await Deno.writeTextFile(`${root}/feeds.json`, JSON.stringify({ feeds: [feed("ACCOUNTS")] }));
    const reserved = await runMain(["status"], { ...env, FEEDS_FILE: `${root}/feeds.json` });
    assert.equal(reserved.code, 3, reserved.stderr);
    assert.equal(reserved.stderr.trim().split("\n").length, 1, reserved.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
