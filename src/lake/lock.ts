/**
 * One in-process lock per lake root. The consumer holds it while it writes a batch; anything else
 * that rewrites lake files in the same process (erasure inside `serve`) takes it too, so a batch
 * appended between its read and its rename cannot be lost. Other processes are not covered.
 */
const tails = new Map<string, Promise<unknown>>();

/** Runs `work` once every earlier holder of the lock for `root` has finished. */
export function withLakeLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const key = root.replace(/\/+$/, "") || "/";
  const run = (tails.get(key) ?? Promise.resolve()).then(work);
  const tail = run.catch(() => {});
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
