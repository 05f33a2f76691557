/** The lake side of erasure on its own: which lines go, and files that change during the scan. */
import assert from "node:assert/strict";
import { scrubLake } from "../../src/lake/scrub.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { withLakeLock } from "../../src/lake/lock.ts";

const NEEDLE = "ab".repeat(32); // a 64-hex pseudonym

Deno.test("erasure_lake: lines holding the needle go, first, middle and last (no final newline); other files are not touched", async () => {
  const root = await Deno.makeTempDir();
  try {
    const path = partitionPath(root, "FEED_A", "2026-01-01");
    const other = partitionPath(root, "FEED_B", "2026-01-01");
    for (const p of [path, other]) {
      await Deno.mkdir(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    }
    // Near misses stay: a prefix of the needle, and the needle cut by a newline.
    const lines = [
      `{"U":"${NEEDLE}","N":1}`,
      `{"U":"${"ab".repeat(31)}a","N":2}`,
      `{"U":"x${NEEDLE}x","N":3}`,
      `{"U":"${NEEDLE.slice(0, 30)}`,
      `${NEEDLE.slice(30)}","N":4}`,
      `{"U":"${NEEDLE}","N":5}`,
    ];
    await Deno.writeTextFile(path, lines.join("\n"));
    await Deno.writeTextFile(other, `{"U":"cd","N":9}\n`);
    const before = await Deno.stat(other);

    const result = await scrubLake(root, NEEDLE);
    assert.deepEqual(result.files.map((f) => f.path), [path]);
    assert.deepEqual(result.files[0].lines, [lines[0], lines[2], lines[5]]);
    assert.equal(await Deno.readTextFile(path), [lines[1], lines[3], lines[4]].join("\n") + "\n");
    assert.equal(result.scanned.files, 2);
    assert.equal((await Deno.stat(other)).mtime?.getTime(), before.mtime?.getTime());
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("erasure_lake: a file appended to between the scan and the lake lock is searched again", async () => {
  const root = await Deno.makeTempDir();
  try {
    const path = partitionPath(root, "FEED_A", "2026-01-01");
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, `{"U":"${NEEDLE}","N":1}\n{"U":"cd","N":2}\n`);

    // A consumer holds the lake lock: the erasure scans and then waits for it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const consumer = withLakeLock(root, async () => {
      locked();
      await held;
    });
    await isLocked;
    const erasing = scrubLake(root, NEEDLE);
    // It has scanned once its rewrite waits beside the file (a temp file) for the lake lock.
    const dir = path.slice(0, path.lastIndexOf("/"));
    const deadline = Date.now() + 30_000;
    while ([...Deno.readDirSync(dir)].length < 2) {
      assert.ok(Date.now() < deadline, "the erasure scanned and wrote its rewrite aside");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The consumer appends (under its lock) one line of the person and one of someone else.
    await Deno.writeTextFile(path, `{"U":"${NEEDLE}","N":3}\n{"U":"cd","N":4}\n`, { append: true });
    release();
    await consumer;
    const result = await erasing;

    assert.equal(result.files[0].lines.length, 2, "both lines of the person, the new one too");
    assert.equal(await Deno.readTextFile(path), `{"U":"cd","N":2}\n{"U":"cd","N":4}\n`);
    const names = [...Deno.readDirSync(path.slice(0, path.lastIndexOf("/")))].map((e) => e.name);
    assert.deepEqual(names, [path.slice(path.lastIndexOf("/") + 1)], "no temp file left");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
