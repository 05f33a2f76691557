/**
 * Erasure keeps the lake checkpoint true: a consumer that crashes after an erasure (at any
 * instant) loses and duplicates nothing, and leaves no broken line.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { eraseUser } from "../../src/governance/erasure.ts";
import type { KafkaRecord, RecordBatch } from "../../src/kafka/client.ts";
import {
  checkpointPath,
  journalPath,
  listPartitions,
  partitionPath,
} from "../../src/lake/layout.ts";
import { claimLake } from "../../src/lake/owner.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { hmacHexSync, hmacKey } from "../../src/processor/pseudonymize.ts";
import {
  BROKERS,
  envOf,
  feedsFileConfig,
  runMain,
  spawnMain,
  testConfig,
  testKafka,
  uniqueName,
} from "../helpers/env.ts";
import { openTestWarehouse } from "./fixtures.ts";
import { testWithKcat } from "../helpers/needs.ts";

const encoder = new TextEncoder();

function batch(topic: string, first: number, values: object[], partition = 0): RecordBatch {
  const records: KafkaRecord[] = values.map((value, i) => ({
    topic,
    partition,
    offset: String(first + i),
    key: null,
    value: encoder.encode(JSON.stringify(value)),
    timestamp: Date.parse("2026-05-01T00:00:00Z"),
    headers: {},
  }));
  return {
    topic,
    partition,
    records,
    generation: { groupId: "test", memberId: "", generationId: -1 },
    nextOffset: String(first + values.length),
    highWatermark: "0",
  };
}

const txn = (n: number, user: string, day = "2026-05-01") => ({
  TRANSACTION_ID: `TXN-${n.toString(16).padStart(8, "0")}`,
  USER_ID_HASHED: user,
  AMOUNT: n,
  TIMESTAMP: `${day}T10:00:00Z`,
});

async function fileLengths(root: string, group: string): Promise<Record<string, number>> {
  return JSON.parse(await Deno.readTextFile(checkpointPath(root, group))).files;
}

async function transactionIds(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), "ends with a whole line");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line).TRANSACTION_ID);
}

Deno.test("erasure keeps the checkpoint true: a crash after erasure and a later append cuts nothing of value", async () => {
  const config = await testConfig();
  const root = config.dataLakeDir;
  const key = hmacKey(config.anonymizationKey!);
  const gone = hmacHexSync(key, "U00042");
  const stays = hmacHexSync(key, "U00007");
  const FEED = "TRANSACTIONS_SECURE";
  const feeds = config.feeds.filter((f) => f.name === FEED);
  const options = { root, groupId: "g", feeds, log: silentLogger };
  const db = await openTestWarehouse(config);
  try {
    const writer = await LakeWriter.open(options);
    const first = Array.from({ length: 20 }, (_, n) => txn(n, n % 2 ? gone : stays));
    await writer.writeBatch(batch(FEED, 0, first));
    const path = partitionPath(root, FEED, "2026-05-01");
    const relative = path.slice(root.length + 1);

    await eraseUser({ config, warehouse: db, log: silentLogger, userId: "U00042" });
    const erasedSize = (await Deno.stat(path)).size;
    assert.equal((await fileLengths(root, "g"))[relative], erasedSize, "erasure set the length");

    // A batch for another day: the running writer must not write its stale length back.
    await writer.writeBatch(batch(FEED, 20, [txn(20, stays, "2026-05-02")]));
    assert.equal((await fileLengths(root, "g"))[relative], erasedSize, "still true");

    // The next batch is appended, and the process dies before its checkpoint.
    const saved = await Deno.readTextFile(checkpointPath(root, "g"));
    const next = batch(FEED, 21, Array.from({ length: 40 }, (_, n) => txn(100 + n, stays)));
    await writer.writeBatch(next);
    await writer.close();
    await Deno.writeTextFile(checkpointPath(root, "g"), saved);

    const restarted = await LakeWriter.open(options);
    const replay = await restarted.writeBatch(next); // Kafka delivers it again
    assert.equal(replay.written, 40);
    await restarted.close();
    const ids = await transactionIds(path);
    const expected = [
      ...first.filter((t) => t.USER_ID_HASHED === stays).map((t) => t.TRANSACTION_ID),
      ...Array.from({ length: 40 }, (_, n) => txn(100 + n, stays).TRANSACTION_ID),
    ];
    assert.deepEqual(ids, expected, "every record once, in order, no broken line");
  } finally {
    await db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("erasure scrubs a running consumer's table journal and keeps its length true", async () => {
  const config = await testConfig();
  const root = config.dataLakeDir;
  const key = hmacKey(config.anonymizationKey!);
  const gone = hmacHexSync(key, "U00042");
  const stays = hmacHexSync(key, "U00007");
  const feeds = config.feeds.filter((f) => f.name === "USERS");
  // Snapshots at most once a minute: the second batch stays in the journal.
  // A crash is simulated in this process: the claim on the root stays with the "process".
  const owner = await claimLake(root);
  const options = {
    root,
    groupId: "g",
    feeds,
    log: silentLogger,
    snapshotIntervalMs: 60_000,
    owner,
  };
  const db = await openTestWarehouse(config);
  try {
    const writer = await LakeWriter.open(options);
    await writer.writeBatch(batch("USERS", 0, [{ USER_ID_HASHED: stays, CITY: "Lyon" }]));
    await writer.writeBatch(batch("USERS", 1, [{ USER_ID_HASHED: gone, CITY: "Paris" }]));
    const journal = journalPath(root, "g", "USERS");
    assert.ok((await Deno.readTextFile(journal)).includes(gone), "the change is journaled");

    const report = await eraseUser({ config, warehouse: db, log: silentLogger, userId: "U00042" });
    assert.ok(report.lake.byFile.some((f) => f.path === journal), "the journal was erased");
    assert.ok(!(await Deno.readTextFile(journal)).includes(gone));
    const lengths = await fileLengths(root, "g");
    assert.equal(lengths[journal.slice(root.length + 1)], (await Deno.stat(journal)).size);

    // A restart replays the journal into the snapshot: the person does not come back.
    const restarted = await LakeWriter.open({ ...options, groupId: "g" });
    const { partitions } = await listPartitions(root, "USERS");
    const snapshot = await Deno.readTextFile(partitions.at(-1)!.path);
    assert.ok(snapshot.includes(stays) && !snapshot.includes(gone), snapshot);
    await restarted.close();
    await writer.close();
  } finally {
    await db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

testWithKcat(
  "erasure then SIGKILL of a consuming process, then restart: every record exactly once, no broken line",
  async () => {
    const name = uniqueName("LK_ERASE_KILL");
    const { config, dir } = await feedsFileConfig({
      name,
      kind: "stream",
      primaryKey: ["TRANSACTION_ID"],
      timeField: "TIMESTAMP",
      columns: { TRANSACTION_ID: "TEXT", USER_ID_HASHED: "TEXT", AMOUNT: "REAL" },
    });
    const env = envOf(config);
    const key = hmacKey(config.anonymizationKey!);
    const gone = hmacHexSync(key, "U00042");
    const stays = hmacHexSync(key, "U00007");
    const kafka = testKafka();
    const path = partitionPath(config.dataLakeDir, name, "2026-05-01");
    const kcat = async (records: object[], file: string) => {
      await Deno.writeTextFile(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
      const out = await new Deno.Command("kcat", {
        args: ["-b", BROKERS, "-P", "-t", name, "-l", "-X", "linger.ms=50", file],
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    };
    try {
      await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
      const WAVE1 = 20_000;
      const WAVE2 = 100_000;
      await kcat(Array.from({ length: WAVE1 }, (_, n) => txn(n, n % 2 ? gone : stays)), `${dir}/1`);

      const child = spawnMain(["consume", "--feeds", name], env);
      const output = child.output();
      await waitFor(async () => (await lineCount(path)) === WAVE1, "the first wave in the lake");

      const erased = await runMain(["erase", "--user", "U00042"], env);
      assert.equal(erased.code, 0, erased.stderr);
      const erasedSize = (await Deno.stat(path)).size;

      // The second wave; the consumer dies as soon as the file grows again.
      const wave2 = kcat(
        Array.from({ length: WAVE2 }, (_, n) => txn(WAVE1 + n, stays)),
        `${dir}/2`,
      );
      await waitFor(async () => (await Deno.stat(path)).size > erasedSize, "the first append", 1);
      child.kill("SIGKILL");
      assert.equal((await output).signal, "SIGKILL");
      await wave2;

      const resumed = await runMain(["consume", "--once", "--feeds", name], env);
      assert.equal(resumed.code, 0, resumed.stderr);
      const text = await Deno.readTextFile(path);
      const ids = new Map<string, number>();
      for (const line of text.split("\n")) {
        if (!line) continue;
        const record = JSON.parse(line); // a broken line throws here
        assert.equal(record.USER_ID_HASHED, stays, "the erased person is not back");
        ids.set(record.TRANSACTION_ID, (ids.get(record.TRANSACTION_ID) ?? 0) + 1);
      }
      assert.equal(ids.size, WAVE1 / 2 + WAVE2, "every record is there");
      assert.ok([...ids.values()].every((n) => n === 1), "none twice");
    } finally {
      await kafka.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

async function lineCount(path: string): Promise<number> {
  try {
    const data = await Deno.readFile(path);
    let n = 0;
    for (const byte of data) if (byte === 0x0a) n++;
    return n;
  } catch {
    return 0;
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
