/**
 * A load onto a full disk: the warehouse on a small tmpfs (mounted here, as root), the lake
 * elsewhere, and a filler file taking the free space. The failing batch is rolled back with
 * nothing counted as rejected and nothing marked read; `load` exits non-zero with one line
 * naming the cause and the path; once space is freed, the next load brings everything in.
 * Ignored, saying why, where mounting is not allowed (not root).
 */
import assert from "node:assert/strict";
import { envOf, runMain, tempDir, testConfig } from "../helpers/env.ts";
import { testNeeding } from "../helpers/needs.ts";
import { TMPFS_MISSING } from "../lake/_tmpfs.ts";
import { count, txn, withDb, writePartition } from "./lake.ts";

const USD = "TRANSACTIONS_USD";
const ROWS = 20_000;

async function mountTmpfs(dir: string, size: string): Promise<string | undefined> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: new TextEncoder().encode(`${error}`) }));
  return out.success ? undefined : new TextDecoder().decode(out.stderr).trim() || "mount failed";
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir], stdout: "null", stderr: "null" }).output();
}

/** Fills the file system holding `path` up to `leave` bytes free. */
async function fill(path: string, leave: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(1 << 20).fill(7);
  let written = 0;
  try {
    while (true) written += await file.write(chunk);
  } catch (error) {
    if (!(error instanceof Error) || !/No space left/i.test(error.message)) throw error;
  }
  await file.truncate(Math.max(0, written - leave));
  file.close();
}

testNeeding(TMPFS_MISSING)(
  "load onto a full disk: rolled back, one clear error, nothing lost; the next load completes",
  async () => {
    const mount = await tempDir("dl-tmpfs-");
    const refused = await mountTmpfs(mount, "24m");
    if (refused) throw new Error(`cannot mount a tmpfs: ${refused}`);
    const config = await testConfig({ env: { WAREHOUSE_PATH: `${mount}/warehouse.db` } });
    try {
      const records = Array.from({ length: ROWS }, (_, i) => txn(`user-${i % 500}`));
      await writePartition(config, USD, "2026-11-20", records.slice(0, ROWS / 2));
      await writePartition(config, USD, "2026-11-21", records.slice(ROWS / 2));
      const env = { ...envOf(config), LOADER_BATCH_ROWS: "500" };

      // The schema and a first small load fit; then the disk is all but full.
      const seed = config.dataLakeDir + "/USERS/2026-11-19/USERS_2026-11-19.jsonl";
      await Deno.mkdir(seed.slice(0, seed.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(seed, JSON.stringify({ USER_ID_HASHED: "seed" }) + "\n");
      const first = await runMain(["load", "--feeds", "USERS"], env);
      assert.equal(first.code, 0, first.stderr);
      await fill(`${mount}/filler`, 1 << 20);

      const full = await runMain(["load", "--feeds", USD], env);
      assert.notEqual(full.code, 0, "load fails");
      const errors = full.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, full.stderr);
      assert.match(
        errors[0],
        new RegExp(
          `^error: Cannot load ${USD} into sqlite:${mount}/warehouse.db: the disk is full`,
        ),
      );
      assert.doesNotMatch(full.stderr, /record_rejected|cannot rollback|^\s+at /m, full.stderr);
      withDb(config, (db) => {
        assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
        const read =
          db.prepare("SELECT coalesce(sum(LINES), 0) AS n FROM _LOADER_FILES WHERE FEED = ?")
            .get(USD)!.n;
        const loaded = db.prepare(`SELECT count(*) AS n FROM ${USD}`).get()!.n;
        assert.equal(read, loaded, "the bookkeeping marks read exactly the lines that are loaded");
        assert.ok(Number(loaded) < ROWS, `the disk filled before the end (${loaded} rows)`);
      });

      await Deno.remove(`${mount}/filler`);
      const next = await runMain(["load", "--feeds", USD], env);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stdout, new RegExp(`${USD}: \\d+ inserted, 0 updated, 0 rejected`));
      assert.equal(count(config, USD), ROWS, "everything is loaded");
      withDb(config, (db) => {
        const kept = db.prepare("SELECT ROW_COUNT AS n FROM _LOADER_TABLES WHERE FEED = ?").get(
          USD,
        );
        assert.equal(kept?.n, ROWS);
      });
    } finally {
      await unmount(mount);
      await Deno.remove(mount, { recursive: true }).catch(() => {});
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
);
