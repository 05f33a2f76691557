/**
 * Issue 10 item 11: odd lake folders. 0000-01-01 goes like any old partition; 9999-12-31 and
 * other future folders age from when they were written, so retention does not keep them forever.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { partitionPath } from "../../src/lake/layout.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { dayBefore, writeJsonl } from "../governance/fixtures.ts";

const FEED = "TRANSACTIONS_SECURE";

Deno.test("cleanup: a 0000-01-01 folder goes; a far-future folder goes once written longer ago than the retention", async () => {
  const config = await testConfig();
  const env = { ...envOf(config), RETENTION_DAYS: "30" };
  const now = new Date();
  const path = (day: string) => partitionPath(config.dataLakeDir, FEED, day);
  const ancient = path("0000-01-01");
  const farStale = path("9999-12-31");
  const nearStale = path("2199-06-01");
  const farFresh = path("9999-12-30");
  const today = path(dayBefore(now, 0));
  try {
    for (const p of [ancient, farStale, nearStale, farFresh, today]) {
      await writeJsonl(p, [{ TRANSACTION_ID: "TXN-00000001" }]);
    }
    const longAgo = new Date(now.getTime() - 60 * 86_400_000);
    await Deno.utime(farStale, longAgo, longAgo);
    await Deno.utime(nearStale, longAgo, longAgo);

    const run = await runMain(["cleanup"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(ancient), false, "0000-01-01 is older than any cutoff");
    assert.equal(existsSync(farStale), false, "written 60 days ago: past a 30-day retention");
    assert.equal(existsSync(nearStale), false);
    assert.equal(existsSync(farFresh), true, "written just now: kept for now");
    assert.equal(existsSync(today), true);
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});
