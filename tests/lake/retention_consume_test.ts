/**
 * Retention during consumption (real broker): cleanup deletes a date folder the running consumer
 * wrote; a late record for that day recreates it (the next cleanup removes it again) and the
 * consumer never stops.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { runCleanup } from "../../src/governance/retention.ts";
import { startLakeConsumer } from "../../src/lake/consumer.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { openTestWarehouse } from "../governance/fixtures.ts";
import { produce, readLines, streamFeed } from "./_fixtures.ts";

const OLD_DAY = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("retention during consumption: a late record for a deleted day folder is written again, the consumer goes on", async () => {
  const name = uniqueName("LK_RETAIN");
  const config = await testConfig({ feeds: [streamFeed(name)] });
  const kafka = testKafka();
  const db = await openTestWarehouse(config);
  const record = (id: string) => ({
    topic: name,
    key: id,
    value: JSON.stringify({ ID: id, AMOUNT: 1, TS: `${OLD_DAY}T10:00:00Z` }),
  });
  let failed: unknown;
  const consumer = await startLakeConsumer({
    config,
    kafka,
    log: silentLogger,
    feeds: config.feeds,
  });
  consumer.done.catch((error) => (failed = error));
  try {
    const path = partitionPath(config.dataLakeDir, name, OLD_DAY);
    await produce(kafka, [record("A")]);
    await waitFor("the first record", () => exists(path));

    const cleaned = await runCleanup({ config, warehouse: db, log: silentLogger, dryRun: false });
    assert.equal(cleaned.totals.partitions, 1);
    assert.equal(await exists(path), false, "retention removed the day folder");

    await produce(kafka, [record("B")]);
    await waitFor("the late record", () => exists(path));
    assert.equal(failed, undefined, `the consumer did not stop: ${failed}`);
    assert.deepEqual((await readLines(path)).map((l) => JSON.parse(l).ID), ["B"]);

    // And on again: the next record lands after it, the next cleanup removes the day again.
    await produce(kafka, [record("C")]);
    await waitFor("one more", async () => (await readLines(path)).length === 2);
    assert.equal(failed, undefined, `the consumer did not stop: ${failed}`);
    await runCleanup({ config, warehouse: db, log: silentLogger, dryRun: false });
    assert.equal(await exists(path), false);
  } finally {
    await consumer.stop();
    await consumer.done.catch(() => {});
    await db.close();
    await kafka.close();
  }
});
