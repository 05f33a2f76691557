/**
 * Retention's side of the lake: which partitions are older than a day, and removing them. A
 * partition goes with its date folder (the file and any temp file a writer left), under the lake
 * lock, and only if every folder on its way is still a real folder and the file a regular file: an
 * entry swapped for a link meanwhile is skipped and returned, never followed.
 */
import { dayOf, normalizeRoot, type Partition } from "./layout.ts";
import { kindOf, lstatIfExists, type UnsafeEntry } from "./entries.ts";
import { withLakeLock } from "./lock.ts";

/**
 * The partitions dated before `keepFrom` (YYYY-MM-DD). One dated after `today` (a producer's
 * clock, or a time field far ahead such as 9999-12-31) ages from when it was last written
 * instead of its name, so it goes once it has been kept as long as the others, rather than never.
 */
export function partitionsBefore(
  partitions: readonly Partition[],
  keepFrom: string,
  today: string,
): Partition[] {
  return partitions.filter((p) =>
    p.date < keepFrom ||
    (p.date > today && p.mtimeMs !== null && dayOf(p.mtimeMs) < keepFrom)
  );
}

export interface Dropped {
  dropped: Partition[];
  skipped: UnsafeEntry[];
}

/**
 * Removes each partition's date folder, under the lake lock (no consumer batch goes into a folder
 * while it is removed). `onDropped` runs after each removal (retention audits it there); a
 * failure stops the rest and is thrown, `dropped` having been passed to `onDropped` one by one.
 */
export async function dropPartitions(
  root: string,
  partitions: readonly Partition[],
  onDropped: (partition: Partition) => Promise<void> = async () => {},
): Promise<Dropped> {
  const result: Dropped = { dropped: [], skipped: [] };
  if (partitions.length === 0) return result;
  const base = normalizeRoot(root);
  // Lock order: job lock (JOB_LOCKS row) → load lock (held by the caller) → lake lock.
  await withLakeLock(root, async () => {
    for (const partition of partitions) {
      const folder = partition.path.slice(0, partition.path.lastIndexOf("/"));
      const unsafe = await unsafeOn(base, partition);
      if (unsafe) {
        result.skipped.push(unsafe);
        continue;
      }
      try {
        // Removing a folder never follows the links inside it.
        await Deno.remove(folder, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        continue; // gone already
      }
      result.dropped.push(partition);
      await onDropped(partition);
    }
  });
  return result;
}

/** The first entry on the way from the root to the partition that is not what it should be. */
async function unsafeOn(root: string, partition: Partition): Promise<UnsafeEntry | undefined> {
  const parts = partition.path.slice(root.length + 1).split("/");
  let at = root;
  for (const [i, part] of parts.entries()) {
    at = `${at}/${part}`;
    const info = await lstatIfExists(at);
    if (!info) return undefined; // gone already
    if (i === parts.length - 1 ? !info.isFile : !info.isDirectory) {
      return { path: at, kind: kindOf(info) };
    }
  }
  return undefined;
}
