/**
 * Table snapshots are coalesced: batches of an overwrite feed go to its journal, the snapshot
 * file is rewritten at most once per interval (or on close), and a crash replays the journal.
 */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { RecordBatch } from "../../src/kafka/client.ts";
import { checkpointPath, journalPath, partitionPath } from "../../src/lake/layout.ts";
import { claimLake } from "../../src/lake/owner.ts";
import { journalLines, parseJournalLine } from "../../src/lake/tables.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { lakeBatch, tableFeed } from "./_fixtures.ts";

const DAY = "2026-08-09";
const now = () => Date.parse(`${DAY}T10:00:00Z`);

function batch(topic: string, first: number, rows: [string, number | null][]): RecordBatch {
  const values = rows.map(([K, N]) => N === null ? null : JSON.stringify({ K, N }));
  return lakeBatch(topic, first, values, { keys: rows.map(([k]) => k), timestamp: now() });
}

async function table(path: string): Promise<Record<string, number>> {
  const text = await Deno.readTextFile(path);
  return Object.fromEntries(
    text.split("\n").filter(Boolean).map((l) => {
      const { K, N } = JSON.parse(l);
      return [K, N];
    }),
  );
}

Deno.test("tables: 20 batches rewrite the snapshot once; a restart without close replays the journal", async () => {
  const feed = validateFeed(tableFeed(), "test");
  const root = await Deno.makeTempDir();
  // A crash is simulated in this process: the claim on the root stays with the "process".
  const owner = await claimLake(root);
  const options = { root, groupId: "g", feeds: [feed], log: silentLogger, now, owner };
  try {
    const writer = await LakeWriter.open({ ...options, snapshotIntervalMs: 60_000 });
    const snapshot = partitionPath(root, feed, DAY);
    const journal = journalPath(root, "g", feed);
    await writer.writeBatch(batch(feed.name, 0, [["a", 0], ["b", 0]]));
    const inode = (await Deno.stat(snapshot)).ino;
    for (let n = 1; n <= 20; n++) {
      // Each key's latest value; "b" is deleted (a tombstone) in the last batch.
      const rows: [string, number | null][] = n < 20 ? [["a", n], [`k${n}`, n]] : [["b", null]];
      await writer.writeBatch(batch(feed.name, 2 * n, rows));
      const lengths = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g"))).files;
      assert.equal(lengths[journal.slice(root.length + 1)], (await Deno.stat(journal)).size);
    }
    assert.equal((await Deno.stat(snapshot)).ino, inode, "the snapshot was not rewritten");
    assert.deepEqual(await table(snapshot), { a: 0, b: 0 }, "the snapshot holds the first state");

    // A crash: a new writer on the same lake, the first never closed.
    const restarted = await LakeWriter.open(options);
    const expected: Record<string, number> = { a: 19 };
    for (let n = 1; n < 20; n++) expected[`k${n}`] = n;
    assert.deepEqual(await table(snapshot), expected, "the journal replayed into the snapshot");
    assert.equal((await Deno.stat(journal)).size, 0, "and the journal emptied");
    // Kafka delivers the last batch again: skipped, the table is the same.
    const again = await restarted.writeBatch(batch(feed.name, 40, [["b", null]]));
    assert.equal(again.skipped, 1);
    await restarted.close();
    await writer.close();
    assert.deepEqual(await table(snapshot), expected);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("tables: changes inside the interval reach the snapshot by the timer", async () => {
  const feed = validateFeed(tableFeed(), "test");
  const root = await Deno.makeTempDir();
  // The writer's clock stands still, so the second batch falls inside the interval however slow
  // the machine is; only the timer (real time) can write it.
  const now = Date.now();
  const writer = await LakeWriter.open({
    root,
    groupId: "g",
    feeds: [feed],
    log: silentLogger,
    now: () => now,
    snapshotIntervalMs: 1_000,
  });
  try {
    const snapshot = partitionPath(root, feed, new Date(now));
    await writer.writeBatch(batch(feed.name, 0, [["a", 1]]));
    await writer.writeBatch(batch(feed.name, 1, [["a", 2]]));
    assert.deepEqual(await table(snapshot), { a: 1 }, "not yet");
    const deadline = Date.now() + 30_000;
    // The snapshot is renamed into place first, then the journal is emptied: wait for both.
    const journal = journalPath(root, "g", feed);
    while ((await table(snapshot)).a !== 2 || (await Deno.stat(journal)).size !== 0) {
      assert.ok(Date.now() < deadline, "the timer wrote the snapshot and emptied the journal");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await writer.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("tables: journal lines read back as written (key, record, its exact text); anything else is not one", () => {
  const value = `{"K":"a","N":1,"S":"é\\u0000"}`;
  const [line, deletion] = journalLines([
    { key: "a", line: new TextEncoder().encode(value) },
    { key: "b|c", line: null },
  ]).map((bytes) => new TextDecoder().decode(bytes).replace(/\n$/, ""));
  assert.deepEqual(parseJournalLine(line), {
    key: "a",
    value: JSON.parse(value),
    raw: value,
  });
  assert.deepEqual(parseJournalLine(deletion), { key: "b|c", value: null, raw: null });
  for (
    const bad of ["", "{}", `{"k":1,"v":null}`, `{"v":null,"k":"a"}`, `{"k":"a","v":[1]}`, "x"]
  ) {
    assert.equal(parseJournalLine(bad), undefined, bad);
  }
});
