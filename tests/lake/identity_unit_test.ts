/**
 * Topic identity in the checkpoint (issue 17 item 4): offsets recorded for a topic that was
 * deleted and created again (another Kafka topic id) are dropped with one warning, so the new
 * topic's first records are written instead of skipped as "already in the lake". Unknown ids
 * (older checkpoints, a client that gives none) keep the offsets as before.
 */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import type { RecordBatch } from "../../src/kafka/client.ts";
import { checkpointPath, partitionPath } from "../../src/lake/layout.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { recordingLogger } from "./_plant.ts";
import { lakeBatch, readLines, streamFeed } from "./_fixtures.ts";

const DAY = "2026-02-03";
const row = (id: string) => `{"ID":"${id}","AMOUNT":1,"TS":"${DAY}T10:00:00Z"}`;

function batch(topic: string, first: number, ids: string[]): RecordBatch {
  return lakeBatch(topic, first, ids.map(row));
}

/** A lake whose checkpoint holds offset 3 of the feed's topic, recorded under `id` (if any). */
async function lakeWithThree(id: string | undefined) {
  const feed = validateFeed(streamFeed(), "test");
  const root = await Deno.makeTempDir();
  const writer = await LakeWriter.open({
    root,
    groupId: "g",
    feeds: [feed],
    log: recordingLogger().log,
  });
  if (id) await writer.noteTopicIds(new Map([[feed.name, id]]));
  await writer.writeBatch(batch(feed.name, 0, ["A", "B", "C"]));
  await writer.close();
  return { feed, root, path: partitionPath(root, feed, DAY) };
}

const recreatedWarnings = (events: Record<string, unknown>[]) =>
  events.filter((e) => e.event === "lake.topic_recreated");

Deno.test("identity: another topic id at start drops the old offsets with one warning; the new topic's records are written", async () => {
  const { feed, root, path } = await lakeWithThree("id-old");
  try {
    const { log, events } = recordingLogger();
    const writer = await LakeWriter.open({ root, groupId: "g", feeds: [feed], log });
    assert.deepEqual(await writer.noteTopicIds(new Map([[feed.name, "id-new"]])), [feed.name]);
    const result = await writer.writeBatch(batch(feed.name, 0, ["N1", "N2"]));
    assert.equal(result.skipped, 0);
    assert.equal(result.written, 2);
    await writer.close();
    assert.deepEqual((await readLines(path)).map((l) => JSON.parse(l).ID), [
      "A",
      "B",
      "C",
      "N1",
      "N2",
    ]);
    const warned = recreatedWarnings(events);
    assert.equal(warned.length, 1);
    assert.equal(warned[0].level, "warn");
    assert.equal(warned[0].topic, feed.name);
    assert.equal(warned[0].previousId, "id-old");
    assert.equal(warned[0].id, "id-new");
    const checkpoint = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g")));
    assert.equal(checkpoint.topics[feed.name], "id-new");
    assert.equal(checkpoint.offsets[`${feed.name}:0`], "2");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("identity: a running writer notices a re-created topic when a batch is older than its checkpoint", async () => {
  const { feed, root, path } = await lakeWithThree("id-old");
  try {
    const { log, events } = recordingLogger();
    let current = "id-old";
    const writer = await LakeWriter.open({
      root,
      groupId: "g",
      feeds: [feed],
      log,
      topicIds: (topics) => Promise.resolve(new Map(topics.map((t) => [t, current]))),
    });
    // The same topic delivering its last batch again (Kafka's commit lagged): skipped as before.
    const again = await writer.writeBatch(batch(feed.name, 1, ["B", "C"]));
    assert.equal(again.skipped, 2);
    assert.equal(recreatedWarnings(events).length, 0);
    current = "id-new";
    const fresh = await writer.writeBatch(batch(feed.name, 0, ["N1"]));
    assert.equal(fresh.written, 1);
    assert.equal(fresh.skipped, 0);
    await writer.close();
    assert.deepEqual((await readLines(path)).map((l) => JSON.parse(l).ID), ["A", "B", "C", "N1"]);
    assert.equal(recreatedWarnings(events).length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (
  const [label, recorded, given] of [
    ["a checkpoint from before ids were kept", undefined, "id-any"],
    ["a client that gives no id", "id-old", undefined],
    ["the same id", "id-old", "id-old"],
  ] as const
) {
  Deno.test(`identity: ${label} keeps the offsets (a replayed batch is skipped, no warning)`, async () => {
    const { feed, root, path } = await lakeWithThree(recorded);
    try {
      const { log, events } = recordingLogger();
      const writer = await LakeWriter.open({ root, groupId: "g", feeds: [feed], log });
      const ids = new Map(given ? [[feed.name, given]] : []);
      assert.deepEqual(await writer.noteTopicIds(ids), []);
      const replay = await writer.writeBatch(batch(feed.name, 0, ["A", "B", "C"]));
      assert.equal(replay.skipped, 3);
      await writer.close();
      assert.deepEqual((await readLines(path)).map((l) => JSON.parse(l).ID), ["A", "B", "C"]);
      assert.equal(recreatedWarnings(events).length, 0);
      if (given && !recorded) {
        const checkpoint = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g")));
        assert.equal(checkpoint.topics[feed.name], given, "the id is recorded from now on");
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
