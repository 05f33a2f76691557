/**
 * A full disk under the lake writer (a real tmpfs): the batch aborts with a StorageError that
 * names the path, files are cut back, nothing is checkpointed; once space is freed, the same
 * writer (or a restart) writes everything exactly once.
 */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { StorageError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { KafkaRecord, RecordBatch } from "../../src/kafka/client.ts";
import { checkpointPath, listPartitions, partitionPath } from "../../src/lake/layout.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { BROKERS, envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { streamFeed, tableFeed } from "./_fixtures.ts";
import { KCAT_MISSING, testNeeding } from "../helpers/needs.ts";
import { fillDisk, mountTmpfs, TMPFS_MISSING } from "./_tmpfs.ts";

const testOnTmpfs = testNeeding(TMPFS_MISSING);

const encoder = new TextEncoder();
const DAY = "2026-02-03";

function batch(topic: string, first: number, count: number, pad = 400): RecordBatch {
  const records: KafkaRecord[] = [];
  for (let i = first; i < first + count; i++) {
    records.push({
      topic,
      partition: 0,
      offset: String(i),
      key: null,
      value: encoder.encode(
        JSON.stringify({ ID: `R${i}`, AMOUNT: i, TS: `${DAY}T10:00:00Z`, PAD: "x".repeat(pad) }),
      ),
      timestamp: Date.parse(`${DAY}T10:00:00Z`),
      headers: {},
    });
  }
  return {
    topic,
    partition: 0,
    records,
    nextOffset: String(first + count),
    highWatermark: "0",
    generation: { groupId: "test", memberId: "", generationId: -1 },
  };
}

async function ids(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text === "" || text.endsWith("\n"), "the file ends with a whole line");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line).ID);
}

testOnTmpfs(
  "storage: a disk full mid-append cuts the batch back; after space is freed the same writer writes it once",
  async () => {
    const fs = await mountTmpfs("2m");
    if (typeof fs === "string") throw new Error(fs);
    try {
      const feed = validateFeed(streamFeed(), "test");
      const root = `${fs.dir}/lake`;
      const writer = await LakeWriter.open({
        root,
        groupId: "g",
        feeds: [feed],
        log: silentLogger,
      });
      await writer.writeBatch(batch(feed.name, 0, 10));
      const path = partitionPath(root, feed, DAY);
      const checkpointBefore = await Deno.readTextFile(checkpointPath(root, "g"));
      const sizeBefore = (await Deno.stat(path)).size;

      const filler = await fillDisk(fs.dir, 64 * 1024);
      const big = batch(feed.name, 10, 600); // ~260 KB: more than is left
      const error = await writer.writeBatch(big).then(() => undefined, (e) => e);
      assert.ok(error instanceof StorageError, `a StorageError, got ${error}`);
      assert.match(error.message, /No space left on device/);
      assert.ok(error.message.includes(path), `names the file: ${error.message}`);
      assert.equal((await Deno.stat(path)).size, sizeBefore, "the partial append is cut back");
      assert.equal(
        await Deno.readTextFile(checkpointPath(root, "g")),
        checkpointBefore,
        "nothing checkpointed",
      );

      await Deno.remove(filler); // space freed: the consumer's retry of the same batch goes through
      const result = await writer.writeBatch(big);
      assert.equal(result.written, 600);
      const written = await ids(path);
      assert.equal(written.length, 610);
      assert.equal(new Set(written).size, 610, "every record once, no broken line");
      await writer.close();
    } finally {
      await fs.unmount();
    }
  },
);

testOnTmpfs(
  "storage: batches until the disk is full, then a restart after it grows: every record exactly once",
  async () => {
    const fs = await mountTmpfs("1m");
    if (typeof fs === "string") throw new Error(fs);
    try {
      const feed = validateFeed(streamFeed(), "test");
      const root = `${fs.dir}/lake`;
      const options = { root, groupId: "g", feeds: [feed], log: silentLogger };
      const writer = await LakeWriter.open(options);
      // Kafka's view: the offset committed after each batch that resolved.
      let committed = 0;
      let error: unknown;
      while (committed < 20_000 && error === undefined) {
        await writer.writeBatch(batch(feed.name, committed, 50, 100)).then(
          () => (committed += 50),
          (e) => (error = e),
        );
      }
      assert.ok(error instanceof StorageError, `a StorageError, got ${error}`);
      assert.match(error.message, /No space left on device/);
      assert.ok(error.message.includes(root), `names a path in the lake: ${error.message}`);
      const checkpoint = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g")));
      assert.equal(checkpoint.offsets[`${feed.name}:0`], String(committed), "nothing past Kafka");
      await writer.close();

      await fs.resize("16m");
      const reopened = await LakeWriter.open(options);
      for (let offset = committed; offset < committed + 500; offset += 50) {
        await reopened.writeBatch(batch(feed.name, offset, 50, 100));
      }
      await reopened.close();
      const written = await ids(partitionPath(root, feed, DAY));
      assert.equal(written.length, committed + 500);
      assert.equal(new Set(written).size, committed + 500, "every record exactly once");
    } finally {
      await fs.unmount();
    }
  },
);

testNeeding(TMPFS_MISSING ?? KCAT_MISSING)(
  "storage: consume --once on a full disk exits 1 with one line naming the cause and path; after space is freed it writes everything once",
  async () => {
    const fs = await mountTmpfs("1m");
    if (typeof fs === "string") throw new Error(fs);
    const name = uniqueName("LK_FULL");
    const config = await testConfig({
      env: { DATA_LAKE_DIR: `${fs.dir}/lake` },
      feeds: [streamFeed(name)],
    });
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
      const TOTAL = 12_000; // ~1.9 MB of lines: twice the disk
      const lines: string[] = [];
      for (let i = 0; i < TOTAL; i++) {
        lines.push(
          JSON.stringify({ ID: `R${i}`, AMOUNT: i, TS: `${DAY}T10:00:00Z`, PAD: "y".repeat(100) }),
        );
      }
      const input = `${config.root}/input.jsonl`;
      await Deno.writeTextFile(input, lines.join("\n") + "\n");
      const kcat = await new Deno.Command("kcat", {
        args: ["-b", BROKERS, "-P", "-t", name, "-l", input],
      }).output();
      assert.equal(kcat.code, 0);

      const env = { ...envOf(config), FEEDS_FILE: await feedsFile(config.root, name) };
      const full = await runMain(["consume", "--once", "--feeds", name], env);
      assert.equal(full.code, 1, full.stderr);
      const errors = full.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, full.stderr);
      assert.match(errors[0], /No space left on device/);
      assert.ok(errors[0].includes(`${fs.dir}/lake/`), `names the path: ${errors[0]}`);
      assert.ok(!/^\s+at /m.test(full.stderr), "no stack trace");

      // Kafka holds no commit past what the lake checkpointed.
      const checkpoint = JSON.parse(
        await Deno.readTextFile(checkpointPath(config.dataLakeDir, config.kafka.groupId)),
      );
      for (const c of await kafka.committedOffsets(config.kafka.groupId, [name])) {
        const durable = BigInt(checkpoint.offsets[`${name}:${c.partition}`] ?? "0");
        assert.ok(BigInt(c.offset) <= durable, `partition ${c.partition}: committed ${c.offset}`);
      }

      await fs.resize("32m");
      const after = await runMain(["consume", "--once", "--feeds", name], env);
      assert.equal(after.code, 0, after.stderr);
      const seen: string[] = [];
      for (const p of (await listPartitions(config.dataLakeDir, name)).partitions) {
        seen.push(...await ids(p.path));
      }
      assert.equal(seen.length, TOTAL);
      assert.equal(new Set(seen).size, TOTAL, "every record exactly once");
    } finally {
      await kafka.close();
      await fs.unmount();
    }
  },
);

/** A FEEDS_FILE declaring only the test feed (the child process reads feeds from it). */
async function feedsFile(dir: string, name: string): Promise<string> {
  const path = `${dir}/feeds.json`;
  await Deno.writeTextFile(path, JSON.stringify({ feeds: [streamFeed(name)] }));
  return path;
}

testOnTmpfs(
  "storage: a table snapshot that cannot be written stops the writer; a restart after space is freed has the whole table",
  async () => {
    const fs = await mountTmpfs("2m");
    if (typeof fs === "string") throw new Error(fs);
    try {
      const feed = validateFeed(tableFeed(), "test");
      const root = `${fs.dir}/lake`;
      const day = "2026-08-09";
      const options = {
        root,
        groupId: "g",
        feeds: [feed],
        log: silentLogger,
        now: () => Date.parse(`${day}T10:00:00Z`),
        snapshotIntervalMs: 0,
      };
      const rows = (from: number, count: number): RecordBatch => {
        const records: KafkaRecord[] = [];
        for (let i = from; i < from + count; i++) {
          records.push({
            topic: feed.name,
            partition: 0,
            offset: String(i),
            key: encoder.encode(`k${i}`),
            value: encoder.encode(JSON.stringify({ K: `k${i}`, N: i, PAD: "z".repeat(300) })),
            timestamp: 0,
            headers: {},
          });
        }
        return {
          topic: feed.name,
          partition: 0,
          records,
          generation: { groupId: "test", memberId: "", generationId: -1 },
          nextOffset: String(from + count),
          highWatermark: "0",
        };
      };
      const writer = await LakeWriter.open(options);
      await writer.writeBatch(rows(0, 100));
      const filler = await fillDisk(fs.dir, 48 * 1024);
      const error = await writer.writeBatch(rows(100, 100)).then(() => undefined, (e) => e);
      assert.ok(error instanceof StorageError, `a StorageError, got ${error}`);
      assert.match(error.message, /No space left on device/);
      const refused = await writer.writeBatch(rows(100, 100)).then(() => undefined, (e) => e);
      assert.match(String(refused?.message), /lake writer stopped/, "later batches are refused");
      await writer.close();

      await Deno.remove(filler);
      const reopened = await LakeWriter.open(options);
      await reopened.writeBatch(rows(100, 100)); // Kafka delivers it again
      await reopened.close();
      const text = await Deno.readTextFile(partitionPath(root, feed, day));
      const keys = text.split("\n").filter(Boolean).map((l) => JSON.parse(l).K);
      assert.equal(keys.length, 200);
      assert.equal(new Set(keys).size, 200);
    } finally {
      await fs.unmount();
    }
  },
);
