/** LakeWriter without Kafka: crash recovery, replays, atomic snapshots under a reading loop. */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { RecordBatch } from "../../src/kafka/client.ts";
import { checkpointPath, partitionPath } from "../../src/lake/layout.ts";
import { claimLake } from "../../src/lake/owner.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { lakeBatch, streamFeed, tableFeed } from "./_fixtures.ts";

function batch(
  topic: string,
  first: number,
  values: (string | null)[],
  keys?: string[],
): RecordBatch {
  return lakeBatch(topic, first, values, { keys, timestamp: Date.parse("2026-02-03T04:05:06Z") });
}

const row = (i: number) => `{"ID":"R${i}","AMOUNT":${i},"TS":"2026-02-03T10:00:00Z"}`;

Deno.test("writer: lines written but never checkpointed are cut on open; a replayed batch is not duplicated", async () => {
  const feed = validateFeed(streamFeed(), "test");
  const root = await Deno.makeTempDir();
  // A crash is simulated in this process: the claim on the root stays with the "process".
  const owner = await claimLake(root);
  const options = { root, groupId: "g1", feeds: [feed], log: silentLogger, owner };
  const path = partitionPath(root, feed, "2026-02-03");

  const writer = await LakeWriter.open(options);
  await writer.writeBatch(batch(feed.name, 0, [row(0), row(1)]));
  const durable = await Deno.readTextFile(path);
  // A crash after the append and before the checkpoint: the file has lines the checkpoint lacks.
  await Deno.writeTextFile(path, `${row(2)}\n${row(3).slice(0, 20)}`, { append: true });

  const reopened = await LakeWriter.open(options);
  assert.equal(await Deno.readTextFile(path), durable, "the torn batch is cut back");
  // Kafka's committed offset lagged: the whole first batch comes again, then the lost one.
  const again = await reopened.writeBatch(batch(feed.name, 0, [row(0), row(1), row(2), row(3)]));
  assert.equal(again.skipped, 2);
  assert.equal(again.written, 2);
  assert.equal(await Deno.readTextFile(path), [0, 1, 2, 3].map(row).join("\n") + "\n");

  const checkpoint = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g1")));
  assert.equal(checkpoint.offsets[`${feed.name}:0`], "4");
});

Deno.test("writer: a file created by a batch that was never checkpointed is emptied on open", async () => {
  const feed = validateFeed(streamFeed(), "test");
  const root = await Deno.makeTempDir();
  // A crash is simulated in this process: the claim on the root stays with the "process".
  const owner = await claimLake(root);
  const options = { root, groupId: "g2", feeds: [feed], log: silentLogger, owner };
  const writer = await LakeWriter.open(options);
  await writer.writeBatch(batch(feed.name, 0, [row(0)]));
  // Simulate the crash window: the checkpoint knows the new day's file (length 0) but not its
  // lines, and the offset was not advanced.
  const saved = await Deno.readTextFile(checkpointPath(root, "g2"));
  const other = `{"ID":"X","AMOUNT":1,"TS":"2026-02-04T00:00:00Z"}`;
  await writer.writeBatch(batch(feed.name, 1, [other]));
  const state = JSON.parse(saved);
  state.files[`${feed.name}/2026-02-04/${feed.name}_2026-02-04.jsonl`] = 0;
  await Deno.writeTextFile(checkpointPath(root, "g2"), JSON.stringify(state));

  const reopened = await LakeWriter.open(options);
  assert.equal(await Deno.readTextFile(partitionPath(root, feed, "2026-02-04")), "");
  await reopened.writeBatch(batch(feed.name, 1, [other]));
  assert.equal(await Deno.readTextFile(partitionPath(root, feed, "2026-02-04")), other + "\n");
});

Deno.test("writer: a reader never sees a partial overwrite snapshot", async () => {
  const feed = validateFeed(tableFeed(), "test");
  const root = await Deno.makeTempDir();
  const day = "2026-08-09";
  const writer = await LakeWriter.open({
    root,
    groupId: "g3",
    feeds: [feed],
    log: silentLogger,
    now: () => Date.parse(`${day}T10:00:00Z`),
    snapshotIntervalMs: 0, // every batch rewrites the snapshot: many renames under the reader
  });
  const path = partitionPath(root, feed, day);
  const ROUNDS = 20;
  const keys = Array.from({ length: 500 }, (_, k) => `key-${k}`);
  const snapshot = (n: number) =>
    keys.map((k) => JSON.stringify({ K: k, N: n, PAD: "x".repeat(40) }));
  await writer.writeBatch(batch(feed.name, 0, snapshot(0), keys));

  let stop = false;
  const seen = new Set<number>(); // the snapshots the reader saw
  const reader = (async () => {
    while (!stop) {
      const text = await Deno.readTextFile(path);
      const rows = text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
      assert.equal(rows.length, keys.length, "a whole table every time");
      assert.equal(new Set(rows.map((r) => r.N)).size, 1, "one snapshot, never a mix");
      seen.add(rows[0].N);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  })();
  for (let n = 1; n <= ROUNDS; n++) {
    await writer.writeBatch(batch(feed.name, n * keys.length, snapshot(n), keys));
  }
  stop = true;
  await reader;
  // The reads overlapped the rewrites: the reader saw snapshots from their middle.
  assert.ok(
    [...seen].some((n) => n > 0 && n < ROUNDS),
    `the reader read while snapshots were being replaced (saw ${[...seen].sort((a, b) => a - b)})`,
  );
  const last = (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) =>
    JSON.parse(l)
  );
  assert.ok(last.every((r) => r.N === ROUNDS));
  // No temp files are left beside the snapshot.
  const names = [...Deno.readDirSync(`${root}/${feed.name}/${day}`)].map((e) => e.name);
  assert.deepEqual(names, [`${feed.name}_${day}.jsonl`]);
});

Deno.test("writer: a tombstone without a key and a value missing its primary key are rejected", async () => {
  const feed = validateFeed(tableFeed(), "test");
  const root = await Deno.makeTempDir();
  const writer = await LakeWriter.open({ root, groupId: "g4", feeds: [feed], log: silentLogger });
  const result = await writer.writeBatch(
    batch(feed.name, 0, [`{"N":1}`, `{"K":"a","N":1.5}`, `{"K":"b","N":2}`]),
  );
  assert.equal(result.rejected, 2);
  assert.equal(result.written, 1);
  const stats = writer.stats()[feed.name];
  assert.equal(stats.rejected, 2);
  assert.ok(stats.lastBatchAt);
});
