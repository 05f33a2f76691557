/**
 * Issue 10 item 8: `audit-pii` scans in linear time (a 5 MB line without an "@" was 10+ minutes),
 * shows a progress line on a terminal, and stops on SIGTERM (it used to run to the end).
 */
import assert from "node:assert/strict";
import { partitionPath } from "../../src/lake/layout.ts";
import { REPO_ROOT, runMain, spawnMain, startFlags, tempDir } from "../helpers/env.ts";

const FEED = "TRANSACTIONS_SECURE";
/** What the progress line starts with: carriage return, then "erase the line". */
const ERASE_LINE = "\x1b[2K";

async function lakeWith(root: string, content: Uint8Array | string): Promise<string> {
  const path = partitionPath(`${root}/lake`, FEED, "2026-11-20");
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

Deno.test("audit-pii: a 5 MB line of address-like text is scanned and its one address found", async () => {
  const root = await tempDir();
  try {
    const line = JSON.stringify({ NOTE: "a.".repeat(2_500_000), MAIL: "jane.doe@example.org" });
    await lakeWith(root, line + "\n");
    const run = await runMain(["audit-pii"], {
      DATA_LAKE_DIR: `${root}/lake`,
      WAREHOUSE_PATH: `${root}/none.db`,
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /email once in lake/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Bytes the process has read so far (Linux). */
async function bytesRead(pid: number): Promise<number> {
  const io = await Deno.readTextFile(`/proc/${pid}/io`).catch(() => "");
  return Number(/^rchar: (\d+)/m.exec(io)?.[1] ?? 0);
}

Deno.test("audit-pii: SIGTERM during a long scan stops it with a clear line and exit 1", async () => {
  const root = await tempDir();
  try {
    const line = JSON.stringify({
      TRANSACTION_ID: "TXN-1",
      NOTE: "a.b 1.2.3 x@y U1234 ".repeat(5),
    });
    const block = new TextEncoder().encode(`${line}\n`.repeat(10_000));
    const chunks = Math.ceil(120 * 1024 * 1024 / block.length);
    const all = new Uint8Array(block.length * chunks);
    for (let i = 0; i < chunks; i++) all.set(block, i * block.length);
    await lakeWith(root, all);

    const child = spawnMain(["audit-pii"], {
      DATA_LAKE_DIR: `${root}/lake`,
      WAREHOUSE_PATH: `${root}/none.db`,
    });
    const output = child.output();
    // Once the file is read, the scan of its 900 000 lines takes seconds: stop it then.
    const deadline = Date.now() + 120_000;
    while ((await bytesRead(child.pid)) < all.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGTERM");
    const out = await output;
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stdout + stderr);
    assert.match(stderr, /audit-pii interrupted: the scan is incomplete/);
    assert.doesNotMatch(stdout, /no personal data found/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("audit-pii: on a terminal a progress line is drawn; in a pipe nothing extra", async () => {
  const root = await tempDir();
  try {
    await lakeWith(root, '{"TRANSACTION_ID":"TXN-1"}\n'.repeat(50_000));
    const env = { DATA_LAKE_DIR: `${root}/lake`, WAREHOUSE_PATH: `${root}/none.db`, NO_COLOR: "1" };
    const command = [Deno.execPath(), "run", ...startFlags(), `${REPO_ROOT}main.ts`, "audit-pii"]
      .map((word) => `'${word}'`).join(" ");
    // `script` gives the command a terminal; its stderr then carries the progress line.
    const tty = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seen = new TextDecoder().decode(tty.stdout);
    assert.equal(tty.code, 0, seen);
    assert.ok(seen.includes(`\r${ERASE_LINE}audit-pii`), JSON.stringify(seen.slice(0, 300)));
    assert.match(seen, /audit-pii +\d+ lines +\d+ lines\/s +1 file\(s\)/);
    const piped = await runMain(["audit-pii"], env);
    assert.ok(!(piped.stderr + piped.stdout).includes(ERASE_LINE));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
