/** Lake paths, listings and the refusal of names that could escape the root. */
import assert from "node:assert/strict";
import { ValidationError } from "../../src/core/errors.ts";
import {
  checkpointPath,
  lakeSizes,
  listPartitions,
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

  const { partitions, strays } = await listPartitions(root, "FEED_A");
  assert.deepEqual(partitions, [
    { date: "2026-03-01", path: partitionPath(root, "FEED_A", "2026-03-01"), bytes: 6 },
    { date: "2026-03-02", path: partitionPath(root, "FEED_A", "2026-03-02"), bytes: 6 },
  ]);
  assert.deepEqual(strays, [
    `${root}/FEED_A/2026-02-31`,
    `${root}/FEED_A/2026-03-03`,
    `${root}/FEED_A/README`,
    `${root}/FEED_A/notes`,
  ]);
  assert.deepEqual(await listPartitions(root, "FEED_MISSING"), { partitions: [], strays: [] });
  assert.deepEqual(await lakeSizes(root, ["FEED_A", { name: "FEED_MISSING" }]), {
    FEED_A: { files: 2, bytes: 12 },
    FEED_MISSING: { files: 0, bytes: 0 },
  });
  await assert.rejects(() => listPartitions(root, "../etc"), ValidationError);
});
