/**
 * Links lead out of the lake (issue 17 item 3): the lake writer (append and overwrite), the
 * loader, erasure and retention touch only regular files inside the root. A link (to a file
 * outside or inside the lake), a directory in a file's place or a fifo is reported with its path
 * and skipped (the writer sets it aside and writes a regular file): nothing is read, written,
 * cut or removed through it, nothing stops, and no stack trace.
 */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { eraseUser } from "../../src/governance/erasure.ts";
import { runCleanup } from "../../src/governance/retention.ts";
import type { RecordBatch } from "../../src/kafka/client.ts";
import { checkpointPath, listPartitions, partitionPath } from "../../src/lake/layout.ts";
import { dropPartitions } from "../../src/lake/drop.ts";
import { withLakeLock } from "../../src/lake/lock.ts";
import { claimLake } from "../../src/lake/owner.ts";
import { scrubLake } from "../../src/lake/scrub.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import { hmacHexSync, hmacKey } from "../../src/processor/pseudonymize.ts";
import { runLoad } from "../../src/warehouse/loader.ts";
import {
  envOf,
  produceWithKcat,
  runMain,
  testConfig,
  testKafka,
  uniqueName,
} from "../helpers/env.ts";
import { dayBefore, openTestWarehouse, writeJsonl } from "../governance/fixtures.ts";
import { lakeBatch, readLines, streamFeed, tableFeed } from "./_fixtures.ts";
import { assertTargetUntouched, MEMBERS, plant, recordingLogger, warningsAbout } from "./_plant.ts";

function batch(topic: string, first: number, values: string[], keys?: string[]): RecordBatch {
  return lakeBatch(topic, first, values, { keys });
}

const row = (id: string, day = "2026-02-03") => `{"ID":"${id}","AMOUNT":1,"TS":"${day}T10:00:00Z"}`;

/** The entries set aside beside `path`, with what they are. */
async function setAside(path: string): Promise<Deno.FileInfo[]> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const name = path.slice(dir.length + 1);
  const out: Deno.FileInfo[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(`${name}.set-aside-`)) {
      out.push(await Deno.lstat(`${dir}/${entry.name}`));
    }
  }
  return out;
}

function kindIs(info: Deno.FileInfo, kind: string): boolean {
  return kind === "symbolic link"
    ? info.isSymlink
    : kind === "directory"
    ? info.isDirectory
    : info.isFifo === true;
}

for (const member of MEMBERS) {
  Deno.test(`links, writer (append): ${member} in a partition's place is set aside and reported; the batch goes to a regular file`, async () => {
    const feed = validateFeed(streamFeed(), "test");
    const root = await Deno.makeTempDir();
    const outside = await Deno.makeTempDir();
    try {
      const { log, events } = recordingLogger();
      const owner = await claimLake(root);
      const options = { root, groupId: "g", feeds: [feed], log, owner };
      const path = partitionPath(root, feed, "2026-02-03");
      const content = `${row("SECRET")}\n${row("SECRET2")}\n`;
      const inside = partitionPath(root, feed, "2026-01-01");

      // 1. Planted before the first write.
      const first = await plant(member, path, { outside, inside, content });
      const writer = await LakeWriter.open(options);
      await writer.writeBatch(batch(feed.name, 0, [row("A"), row("B")]));
      await assertTargetUntouched(first);
      assert.equal(await Deno.readTextFile(path), `${row("A")}\n${row("B")}\n`);
      assert.ok((await Deno.lstat(path)).isFile);
      const aside = await setAside(path);
      assert.equal(aside.length, 1);
      assert.ok(kindIs(aside[0], first.kind), `${member}: set aside as it was`);
      assert.equal(warningsAbout(events, path).length, 1, JSON.stringify(events));
      await writer.close();

      // 2. Swapped in after the file was checkpointed; the target is longer than the
      //    checkpointed length, so a repair through the link would cut it.
      const long = content.repeat(20);
      const second = await plant(member, path, { outside, inside, content: long });
      const reopened = await LakeWriter.open(options);
      await assertTargetUntouched(second);
      await reopened.writeBatch(batch(feed.name, 2, [row("C")]));
      await assertTargetUntouched(second);
      assert.equal(await Deno.readTextFile(path), `${row("C")}\n`);
      assert.equal((await setAside(path)).length, 2);
      await reopened.close();
      const checkpoint = JSON.parse(await Deno.readTextFile(checkpointPath(root, "g")));
      assert.equal(checkpoint.files[path.slice(root.length + 1)], `${row("C")}\n`.length);
      owner.release();
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  });

  Deno.test(`links, writer (overwrite): ${member} in the snapshot's place is neither read into the table nor written through`, async () => {
    const feed = validateFeed(tableFeed(), "test");
    const root = await Deno.makeTempDir();
    const outside = await Deno.makeTempDir();
    try {
      const { log, events } = recordingLogger();
      const day = "2026-08-09";
      const path = partitionPath(root, feed, day);
      const content = `{"K":"SECRET","N":1}\n`;
      const planted = await plant(member, path, {
        outside,
        inside: `${root}/OTHER/${day}/OTHER_${day}.jsonl`, // not this feed's snapshot
        content,
      });
      const writer = await LakeWriter.open({
        root,
        groupId: "g",
        feeds: [feed],
        log,
        now: () => Date.parse(`${day}T10:00:00Z`),
        snapshotIntervalMs: 0,
      });
      await writer.writeBatch(batch(feed.name, 0, [`{"K":"a","N":1}`], ["a"]));
      await writer.close();
      await assertTargetUntouched(planted);
      assert.ok((await Deno.lstat(path)).isFile);
      assert.equal(await Deno.readTextFile(path), `{"K":"a","N":1}\n`, "no SECRET row");
      assert.equal((await setAside(path)).length, 1);
      assert.ok(warningsAbout(events, path).length >= 1, JSON.stringify(events));
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  });
}

const FEED = "TRANSACTIONS_SECURE";
const txn = (id: string, day: string, user = "u") =>
  JSON.stringify({
    TRANSACTION_ID: id,
    USER_ID_HASHED: user,
    AMOUNT: 1.5,
    CURRENCY: "EUR",
    STATUS: "completed",
    TIMESTAMP: `${day}T10:00:00Z`,
  });

const FOLDER_LINK = "link to a folder outside in the feed folder's place";

for (const member of [...MEMBERS, FOLDER_LINK] as const) {
  Deno.test(`links, loader: ${member} is reported and skipped; the other files load`, async () => {
    const config = await testConfig({ env: { LOG_LEVEL: "debug" } });
    const root = config.dataLakeDir;
    const outside = await Deno.makeTempDir();
    const db = await openTestWarehouse(config);
    try {
      const secret = `${txn("TXN-SECRET", "2026-02-04")}\n`;
      let reported: string;
      let untouched = async () => {};
      if (member === FOLDER_LINK) {
        await writeJsonl(`${outside}/2026-02-03/${FEED}_2026-02-03.jsonl`, [JSON.parse(secret)]);
        await Deno.mkdir(root, { recursive: true });
        await Deno.symlink(outside, `${root}/${FEED}`);
        reported = `${root}/${FEED}`;
      } else {
        await writeJsonl(partitionPath(root, FEED, "2026-02-03"), [
          JSON.parse(txn("TXN-A", "2026-02-03")),
        ]);
        const planted = await plant(member, partitionPath(root, FEED, "2026-02-04"), {
          outside,
          // Inside the lake, but not where this feed's partition belongs: never loaded as it.
          inside: `${root}/OTHER/2026-02-04/OTHER_2026-02-04.jsonl`,
          content: secret,
        });
        reported = planted.path;
        untouched = () => assertTargetUntouched(planted);
      }
      const { log, events } = recordingLogger();
      await runLoad({ config, warehouse: db, log, feeds: [FEED] });
      await untouched();
      const ids = (await db.all(`SELECT TRANSACTION_ID FROM ${FEED}`)).map((r) => r.TRANSACTION_ID);
      assert.deepEqual(ids, member === FOLDER_LINK ? [] : ["TXN-A"], "nothing read through it");
      const warned = warningsAbout(events, reported);
      assert.equal(warned.length, 1, JSON.stringify(events));
      assert.equal(warned[0].event, "load.entry_skipped");
      assert.ok(!JSON.stringify(events).includes("    at "), "no stack trace");
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  });

  Deno.test(`links, retention: ${member} is reported and left; nothing outside is removed`, async () => {
    const config = await testConfig();
    const root = config.dataLakeDir;
    const outside = await Deno.makeTempDir();
    const db = await openTestWarehouse(config);
    const now = new Date("2026-11-24T12:00:00Z");
    const old = dayBefore(now, 40);
    try {
      let reported: string;
      const sentinel = `${outside}/${old}/${FEED}_${old}.jsonl`;
      await writeJsonl(sentinel, [{ KEEP: 1 }]);
      let untouched = async () => {};
      if (member === FOLDER_LINK) {
        await Deno.mkdir(root, { recursive: true });
        await Deno.symlink(outside, `${root}/${FEED}`);
        reported = `${root}/${FEED}`;
      } else {
        await writeJsonl(partitionPath(root, FEED, dayBefore(now, 41)), [{ OLD: 1 }]);
        const planted = await plant(member, partitionPath(root, FEED, old), {
          outside,
          inside: `${root}/OTHER/${old}/OTHER_${old}.jsonl`,
          content: `{"KEEP":2}\n`,
        });
        reported = planted.path;
        untouched = () => assertTargetUntouched(planted);
      }
      const { log, events } = recordingLogger();
      const report = await runCleanup({ config, warehouse: db, log, dryRun: false, now });
      await untouched();
      assert.equal(await Deno.readTextFile(sentinel), `{"KEEP":1}\n`, "the outside folder stays");
      const feedReport = report.feeds.find((f) => f.feed === FEED)!;
      assert.ok(feedReport.strays.includes(reported), JSON.stringify(feedReport.strays));
      assert.equal(warningsAbout(events, reported).length, 1, JSON.stringify(events));
      if (member !== FOLDER_LINK) {
        // The regular old partition went; the planted entry is still there, as it was.
        assert.deepEqual(feedReport.partitions.map((p) => p.date), [dayBefore(now, 41)]);
        assert.ok(await Deno.lstat(reported));
      }
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  });
}

Deno.test("links, erasure: links, a directory named like a file and a fifo are reported and skipped; regular files are scrubbed", async () => {
  const config = await testConfig();
  const root = config.dataLakeDir;
  const outside = await Deno.makeTempDir();
  const db = await openTestWarehouse(config);
  try {
    const gone = hmacHexSync(hmacKey(config.anonymizationKey!), "U00042");
    const regular = partitionPath(root, FEED, "2026-02-01");
    await writeJsonl(regular, [
      JSON.parse(txn("TXN-1", "2026-02-01", gone)),
      JSON.parse(txn("TXN-2", "2026-02-01", "other")),
    ]);
    const content = `${txn("TXN-9", "2026-02-09", gone)}\n`;
    const planted = [];
    for (const [i, member] of MEMBERS.entries()) {
      planted.push(
        await plant(member, partitionPath(root, FEED, `2026-02-0${i + 2}`), {
          outside,
          inside: `${root}/_inside/target-${i}.txt`, // not a record file: erasure never reads it
          content,
        }),
      );
    }
    const { log, events } = recordingLogger();
    const report = await eraseUser({ config, warehouse: db, log, userId: "U00042" });
    assert.deepEqual(report.lake.byFile, [{ path: regular, lines: 1 }]);
    assert.ok(!(await Deno.readTextFile(regular)).includes(gone));
    for (const entry of planted) {
      await assertTargetUntouched(entry);
      assert.ok(
        report.skipped.some((s) => s.path === entry.path && s.kind === entry.kind),
        `${entry.member}: ${JSON.stringify(report.skipped)}`,
      );
      assert.equal(warningsAbout(events, entry.path).length, 1, entry.member);
    }
    // Retention's and the loader's listing agree: only the regular file is a partition.
    const listing = await listPartitions(root, FEED);
    assert.deepEqual(listing.partitions.map((p) => p.path), [regular]);
    assert.deepEqual(
      listing.unsafe.map((u) => u.path).sort(),
      planted.map((p) => p.path).sort(),
    );
  } finally {
    await db.close();
    await Deno.remove(config.root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("links, consume --once: every member in a stream's partitions and a link in a table's snapshot are set aside with one warning each; all records arrive; nothing outside changes", async () => {
  const stream = uniqueName("LK_LINKS_S");
  const table = uniqueName("LK_LINKS_T");
  const feeds = [
    { ...streamFeed(stream), columns: { ID: "TEXT" as const, TS: "TEXT" as const } },
    { ...tableFeed(table) },
  ];
  const config = await testConfig({ feeds });
  const feedsFile = `${config.root}/feeds.json`;
  await Deno.writeTextFile(feedsFile, JSON.stringify({ feeds }));
  const outside = await Deno.makeTempDir();
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: stream }, { topic: table, compact: true }]);
    const root = config.dataLakeDir;
    const days = MEMBERS.map((_, i) => `2026-03-0${i + 1}`);
    const planted = [];
    for (const [i, member] of MEMBERS.entries()) {
      planted.push(
        await plant(member, partitionPath(root, stream, days[i]), {
          outside,
          inside: `${root}/OTHER/${days[i]}/OTHER_${days[i]}.jsonl`,
          content: `{"ID":"SECRET","TS":"${days[i]}T00:00:00Z"}\n`,
        }),
      );
    }
    const today = new Date().toISOString().slice(0, 10);
    const snapshot = await plant("link to a file outside", partitionPath(root, table, today), {
      outside,
      inside: "",
      content: `{"K":"SECRET","N":1}\n`,
    });
    await produceWithKcat(stream, days.map((day, i) => `{"ID":"R${i}","TS":"${day}T10:00:00Z"}`));
    await produceWithKcat(table, [`a\t{"K":"a","N":1}`], true);

    const run = await runMain(["consume", "--once"], { ...envOf(config), FEEDS_FILE: feedsFile });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(!run.stderr.includes("    at "), "no stack trace");
    for (const entry of [...planted, snapshot]) {
      await assertTargetUntouched(entry);
      assert.ok((await Deno.lstat(entry.path)).isFile, `${entry.member}: a regular file now`);
      const warned = run.stderr.split("\n").filter((l) =>
        l.includes("lake.entry_set_aside") && l.includes(JSON.stringify(entry.path))
      );
      assert.equal(warned.length, 1, `${entry.member}: ${run.stderr.slice(-3000)}`);
    }
    for (const [i, day] of days.entries()) {
      assert.deepEqual(await readLines(partitionPath(root, stream, day)), [
        `{"ID":"R${i}","TS":"${day}T10:00:00Z"}`,
      ]);
    }
    assert.deepEqual(await readLines(snapshot.path), [`{"K":"a","N":1}`]);
  } finally {
    await kafka.close();
    await Deno.remove(config.root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("links, retention race: a folder swapped for a link after the listing is skipped and reported, nothing outside is removed", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    const days = ["2026-01-01", "2026-01-02"];
    for (const day of days) await writeJsonl(partitionPath(root, FEED, day), [{ OLD: day }]);
    const { partitions } = await listPartitions(root, FEED);
    // Between the listing and the removal: the feed folder becomes a link to a look-alike.
    await Deno.rename(`${root}/${FEED}`, `${root}/moved`);
    for (const day of days) await writeJsonl(`${outside}/${day}/${FEED}_${day}.jsonl`, [{ day }]);
    await Deno.symlink(outside, `${root}/${FEED}`);
    const result = await dropPartitions(root, partitions);
    assert.deepEqual(result.dropped, []);
    assert.deepEqual(result.skipped.map((s) => [s.path, s.kind]), [
      [`${root}/${FEED}`, "symbolic link"],
      [`${root}/${FEED}`, "symbolic link"],
    ]);
    for (const day of days) {
      assert.ok((await Deno.lstat(`${outside}/${day}/${FEED}_${day}.jsonl`)).isFile);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("links, erasure race: a file swapped for a link between the scan and the rewrite is skipped and reported", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    const needle = "f".repeat(64);
    const path = partitionPath(root, FEED, "2026-01-01");
    await writeJsonl(path, [{ U: needle }, { U: "other" }]);
    const victim = `${outside}/victim.jsonl`;
    await Deno.writeTextFile(victim, `{"U":"${needle}"}\n`);
    // Hold the lake lock so the scrub stops between its scan and its rewrite; swap meanwhile.
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => locked = resolve);
    const holder = withLakeLock(root, async () => {
      locked();
      await held;
    });
    await holding;
    const scrub = scrubLake(root, needle);
    await waitForTempBeside(path);
    await Deno.remove(path);
    await Deno.symlink(victim, path);
    release();
    await holder;
    const result = await scrub;
    assert.deepEqual(result.files, []);
    assert.deepEqual(result.skipped, [{ path, kind: "symbolic link" }]);
    assert.equal(await Deno.readTextFile(victim), `{"U":"${needle}"}\n`, "not rewritten");
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

/** Waits (bounded) until a writer's temp file appears beside `path`: the scan is done. */
async function waitForTempBeside(path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.includes(".tmp-")) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no temp file beside ${path}`);
}
