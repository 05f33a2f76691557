/**
 * No feed can stop the rest (issue 16 item 4), against the real broker: one feed's topic is
 * deleted while the lake consumer runs; the other feed's records keep arriving, the broken feed
 * is reported with its cause (log and feedErrors) and retried, and the consumer keeps running.
 */
import assert from "node:assert/strict";
import { Admin } from "@platformatic/kafka";
import { Logger, silentLogger } from "../../src/core/log.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { KafkaHealth } from "../../src/kafka/retry.ts";
import { startLakeConsumer } from "../../src/lake/consumer.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { BROKERS, testConfig } from "../helpers/env.ts";
import { produce, streamFeed } from "../lake/_fixtures.ts";

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter(Boolean);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

const record = (id: string) => `{"ID":"${id}","AMOUNT":1,"TS":"2026-06-01T00:00:00Z"}`;

Deno.test("feed isolation: a feed whose topic is deleted is reported and retried; the other flows", async () => {
  const good = streamFeed();
  const broken = streamFeed();
  const config = await testConfig({ feeds: [good, broken] });
  const health = new KafkaHealth();
  // As in serve: every answered fetch tells the health Kafka is up.
  const kafka = connectKafka(config, silentLogger, health);
  const logged: Record<string, unknown>[] = [];
  const log = new Logger({ level: "info", sink: { write: (l) => logged.push(JSON.parse(l)) } });
  const admin = new Admin({ clientId: "isolation-test", bootstrapBrokers: BROKERS.split(",") });
  const goodPath = partitionPath(config.dataLakeDir, good.name, "2026-06-01");
  const brokenPath = partitionPath(config.dataLakeDir, broken.name, "2026-06-01");
  const lake = await startLakeConsumer({ config, kafka, log, feeds: config.feeds, health });
  let failed: unknown;
  lake.done.catch((error) => (failed = error));
  try {
    await produce(kafka, [
      { topic: good.name, key: "a", value: record("good-1") },
      { topic: broken.name, key: "a", value: record("broken-1") },
    ]);
    await until(
      "both feeds in the lake",
      async () => (await lines(goodPath)).length === 1 && (await lines(brokenPath)).length === 1,
    );

    await admin.deleteTopics({ topics: [broken.name] });
    await until("the broken feed reported", () => broken.name in lake.feedErrors());
    // In the log too: at once, or, this close to the consumer's start, once the start-up grace
    // for a cold broker's settling topics (WAIT_FOREVER.quietMs) has passed.
    await until(
      "lake.feed_failed logged",
      () => logged.some((l) => l.event === "lake.feed_failed"),
    );
    const reported = logged.filter((l) => l.event === "lake.feed_failed");
    assert.equal(reported[0].feed, broken.name);
    assert.equal(typeof reported[0].error, "string");
    assert.ok(!(good.name in lake.feedErrors()));

    // The other feed flows on while the broken one is retried.
    await produce(kafka, [{ topic: good.name, key: "b", value: record("good-2") }]);
    await until("the good feed's next record", async () => (await lines(goodPath)).length === 2);
    assert.deepEqual(await lines(goodPath), [record("good-1"), record("good-2")]);
    assert.equal(failed, undefined, "the lake consumer keeps running");
    assert.equal(
      health.snapshot().up,
      true,
      "one feed's topic is not Kafka being down: " + JSON.stringify(health.snapshot()),
    );

    // Retried: once the topic is back, the feed reads again and its report clears. (Its new
    // offset 0 is below the old checkpoint: telling a recreated topic apart is the lake's.)
    await kafka.ensureTopics([{ topic: broken.name, partitions: 1 }]);
    await produce(kafka, [
      { topic: broken.name, key: "a", value: record("broken-2") },
      { topic: broken.name, key: "a", value: record("broken-3") },
    ]);
    await until(
      "the broken feed back",
      async () => (await lines(brokenPath)).includes(record("broken-3")),
    );
    await until("its report cleared", () => !(broken.name in lake.feedErrors()));
  } finally {
    await lake.stop();
    await admin.close();
    await kafka.close();
  }
  assert.equal(failed, undefined);
});
