/**
 * One writer of lake files at a time per lake root, within a process and across processes. The
 * consumer holds it while it writes a batch or a table snapshot; erasure holds it while it swaps
 * one rewritten file in (and re-checks that the file did not change since it was read);
 * retention while it deletes folders. In-process holders queue on a promise chain; across
 * processes an OS lock on `<root>/_state/lake.lock` (released by the kernel even on SIGKILL)
 * does the same.
 *
 * Lock order, everywhere: job lock (JOB_LOCKS row) → load lock (kernel file lock beside the
 * warehouse) → lake lock. The lake lock is the innermost: nothing waits for another lock while
 * holding it.
 */
import { join } from "node:path";
import { openOrCreateRegular } from "./entries.ts";
import { normalizeRoot, STATE_DIR } from "./layout.ts";

const tails = new Map<string, Promise<unknown>>();
const lockFiles = new Map<string, Promise<Deno.FsFile>>();

/** Runs `work` once every earlier holder of the lock for `root` has finished. */
export function withLakeLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const key = normalizeRoot(root);
  const run = (tails.get(key) ?? Promise.resolve()).then(() => holdingOsLock(key, work));
  const tail = run.catch(() => {});
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

async function holdingOsLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  let opening = lockFiles.get(root);
  if (!opening) {
    opening = (async () => {
      await Deno.mkdir(join(root, STATE_DIR), { recursive: true });
      return await openOrCreateRegular(join(root, STATE_DIR, "lake.lock")); // never via a link
    })();
    lockFiles.set(root, opening);
    opening.catch(() => lockFiles.delete(root));
  }
  const file = await opening;
  await file.lock(true);
  try {
    return await work();
  } finally {
    await file.unlock();
  }
}
