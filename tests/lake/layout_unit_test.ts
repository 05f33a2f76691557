/** Lake paths, listings and the refusal of names that could escape the root. */
import assert from "node:assert/strict";
import { ValidationError } from "../../src/core/errors.ts";
import {
  checkpointPath,
  journalPath,
  lakeSizes,
  listPartitions,
  parseLakePath,
  partitionKey,
  partitionPath,
  rejectedPath,
} from "../../src/lake/layout.ts";

Deno.test("layout: partition and quarantine paths", () => {
  assert.equal(
    partitionPath("/lake/", "TRANSACTIONS_SECURE", "2026-11-24"),
    "/lake/TRANSACTIONS_SECURE/2026-11-24/TRANSACTIONS_SECURE_2026-11-24.jsonl",
  );
  assert.equal(
    partitionPath("./data_lake", { name: "USERS" }, new Date("2026-01-02T23:59:59Z")),
    "./data_lake/USERS/2026-01-02/USERS_2026-01-02.jsonl",
  );
  assert.equal(
    rejectedPath("/lake", "USERS", "2026-01-02"),
    "/lake/_rejected/USERS/2026-01-02/USERS_2026-01-02.jsonl",
  );
  assert.equal(checkpointPath("/lake", "data-lake"), "/lake/_state/data-lake.json");
  assert.equal(checkpointPath("/lake", "../x"), "/lake/_state/%2E%2E%2Fx.json");
});

Deno.test("layout: names and dates that could escape the root are refused", () => {
  for (const bad of ["..", "../x", "a/b", "A/B", ".", "", "A B", "ÉTÉ", "A\\B", "a".repeat(300)]) {
    assert.throws(
      () => partitionPath("/lake", bad, "2026-01-01"),
      (e: Error) => e instanceof ValidationError && /Refusing lake path for feed/.test(e.message),
      bad,
    );
    assert.throws(() => rejectedPath("/lake", bad, "2026-01-01"), ValidationError);
  }
  for (const bad of ["2026-02-30", "../2026-01-01", "2026-1-1", "20260101"]) {
    assert.throws(() => partitionPath("/lake", "USERS", bad), /Refusing lake date/);
  }
});

Deno.test("layout: listPartitions keeps real date folders and reports the rest as strays", async () => {
  const root = await Deno.makeTempDir();
  for (const day of ["2026-03-02", "2026-03-01"]) {
    await Deno.mkdir(`${root}/FEED_A/${day}`, { recursive: true });
    await Deno.writeTextFile(partitionPath(root, "FEED_A", day), "{}\n{}\n");
  }
  await Deno.mkdir(`${root}/FEED_A/2026-02-31`); // not a real date
  await Deno.mkdir(`${root}/FEED_A/notes`);
  await Deno.mkdir(`${root}/FEED_A/2026-03-03`); // a date folder without its file
  await Deno.writeTextFile(`${root}/FEED_A/README`, "x");

  const { partitions, strays, unsafe } = await listPartitions(root, "FEED_A");
  assert.deepEqual(
    partitions.map(({ date, path, relative, bytes }) => ({ date, path, relative, bytes })),
    [
      {
        date: "2026-03-01",
        path: partitionPath(root, "FEED_A", "2026-03-01"),
        relative: "FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl",
        bytes: 6,
      },
      {
        date: "2026-03-02",
        path: partitionPath(root, "FEED_A", "2026-03-02"),
        relative: "FEED_A/2026-03-02/FEED_A_2026-03-02.jsonl",
        bytes: 6,
      },
    ],
  );
  assert.deepEqual(unsafe, [], "nothing here is a link or the like");
  assert.deepEqual(strays, [
    `${root}/FEED_A/2026-02-31`,
    `${root}/FEED_A/2026-03-03`,
    `${root}/FEED_A/README`,
    `${root}/FEED_A/notes`,
  ]);
  assert.deepEqual(await listPartitions(root, "FEED_MISSING"), {
    partitions: [],
    strays: [],
    unsafe: [],
  });
  assert.deepEqual(await lakeSizes(root, ["FEED_A", { name: "FEED_MISSING" }]), {
    FEED_A: { files: 2, bytes: 12 },
    FEED_MISSING: { files: 0, bytes: 0 },
  });
  await assert.rejects(() => listPartitions(root, "../etc"), ValidationError);
});

Deno.test("layout: parseLakePath and partitionKey know every path the lake writes, and nothing else", () => {
  const root = "/data/lake";
  assert.deepEqual(parseLakePath(root, partitionPath(root, "FEED_A", "2026-03-01")), {
    kind: "partition",
    feed: "FEED_A",
    day: "2026-03-01",
    relative: "FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl",
  });
  assert.deepEqual(parseLakePath(`${root}/`, rejectedPath(root, "FEED_A", "2026-03-01")), {
    kind: "rejected",
    feed: "FEED_A",
    day: "2026-03-01",
    relative: "_rejected/FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl",
  });
  assert.deepEqual(parseLakePath(root, journalPath(root, "my.group/x", "USERS")), {
    kind: "journal",
    feed: "USERS",
    group: "my.group/x",
    relative: `${journalPath(root, "my.group/x", "USERS").slice(root.length + 1)}`,
  });
  // Relative paths parse the same.
  assert.equal(parseLakePath(root, "FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl")?.kind, "partition");
  for (
    const other of [
      `${root}/FEED_A/2026-03-01/FEED_B_2026-03-01.jsonl`, // another feed's name
      `${root}/FEED_A/2026-02-31/FEED_A_2026-02-31.jsonl`, // no such day
      `${root}/FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl.tmp-1-2`,
      `${root}/FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl.set-aside-1-2-3`,
      `${root}/_state/g.json`,
      `${root}/_state/owner.lock`,
      `/elsewhere/FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl`,
      `${root}/../FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl`,
    ]
  ) {
    assert.equal(parseLakePath(root, other), undefined, other);
  }
  assert.equal(
    partitionKey("/any/root/FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl"),
    "FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl",
  );
  assert.equal(
    partitionKey("FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl"),
    "FEED_A/2026-03-01/FEED_A_2026-03-01.jsonl",
  );
  assert.equal(partitionKey("/x/_state/g.tables/USERS.jsonl"), undefined);
});
