/**
 * One loader at a time per warehouse: an OS file lock on `<warehouse>.load.lock`. The kernel
 * releases it when the holder exits, even on SIGKILL, so a crashed load never leaves a stale lock.
 * The file's text says who holds it, for the error the second loader shows.
 */
import { ConflictError } from "../core/errors.ts";

export interface LoadLock {
  release(): void;
}

const encoder = new TextEncoder();

/**
 * Takes the lock, waiting up to `waitMs`, else throws ConflictError naming the holder. Its place
 * in the lock order: job lock (JOB_LOCKS row) → this load lock → lake lock (_state/lake.lock).
 */
export async function acquireLoadLock(warehousePath: string, waitMs: number): Promise<LoadLock> {
  if (warehousePath === ":memory:") return { release() {} };
  const path = `${warehousePath}.load.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const locked = file.lock(true);
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), waitMs);
  });
  const winner = await Promise.race([locked.then(() => "locked" as const), timeout]);
  clearTimeout(timer);
  if (winner === "timeout") {
    // The pending lock call may still succeed later: close the file then, which releases it.
    locked.then(() => file.close(), () => file.close());
    throw new ConflictError(`Cannot load: another load is running (${holderOf(path)})`);
  }
  try {
    await file.truncate(0);
    await file.write(
      encoder.encode(JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() })),
    );
  } catch {
    // Who holds the lock is only for the second loader's message; on a full disk the lock still
    // holds, and the load's own write fails with the clear error.
  }
  return {
    release() {
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}

function holderOf(path: string): string {
  try {
    const { pid, since } = JSON.parse(Deno.readTextFileSync(path));
    return `pid ${pid} since ${since}`;
  } catch {
    return "holder unknown";
  }
}
