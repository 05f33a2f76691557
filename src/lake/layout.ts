/**
 * Where things live in the lake. Every path the product builds into the lake comes from here, so
 * a feed or topic name that could escape the root (`..`, `/`, anything Kafka does not allow in a
 * topic name) is refused in one place. Imported by the consumer, retention, erasure and /status.
 *
 *   <root>/<FEED>/<YYYY-MM-DD>/<FEED>_<YYYY-MM-DD>.jsonl             a partition
 *   <root>/_rejected/<FEED>/<YYYY-MM-DD>/<FEED>_<YYYY-MM-DD>.jsonl   its quarantine
 *   <root>/_state/<group>.json                                       the consumer's checkpoint
 *   <root>/_state/<group>.tables/<FEED>.jsonl                        a table feed's journal
 */
import { FEED_NAME, KAFKA_TOPIC_NAME } from "../config/feeds.ts";
import { isDay } from "../core/dates.ts";
import { ValidationError } from "../core/errors.ts";

/** Folder of quarantined records, beside the feed folders (feed names start with a letter). */
export const REJECTED_DIR = "_rejected";
/** Folder of the consumer checkpoints. */
export const STATE_DIR = "_state";

/** A feed, or just its name. */
export type FeedRef = string | { readonly name: string };

export interface Partition {
  /** YYYY-MM-DD (UTC). */
  date: string;
  path: string;
  bytes: number;
}

export interface FeedListing {
  /** Partition files, oldest date first. */
  partitions: Partition[];
  /** Entries of the feed folder that are not a date folder holding its partition file. */
  strays: string[];
}

/** Throws a ValidationError unless `name` is a feed name that cannot leave the lake root. */
export function assertSafeFeedName(name: string): void {
  if (
    typeof name !== "string" || !KAFKA_TOPIC_NAME.test(name) || !FEED_NAME.test(name)
  ) {
    throw new ValidationError(
      `Refusing lake path for feed ${JSON.stringify(name)}: a feed name is upper-case letters, ` +
        `digits and _ (a valid Kafka topic name that cannot leave the lake folder)`,
    );
  }
}

/** The UTC day (YYYY-MM-DD) of a Date, a millisecond timestamp, or a day string (checked). */
export function dayOf(date: string | Date | number): string {
  if (typeof date === "string") {
    if (!isDay(date)) {
      throw new ValidationError(`Refusing lake date ${JSON.stringify(date)}: expected YYYY-MM-DD`);
    }
    return date;
  }
  const ms = typeof date === "number" ? date : date.getTime();
  if (!Number.isFinite(ms)) throw new ValidationError("Refusing lake date: invalid time");
  return new Date(ms).toISOString().slice(0, 10);
}

/** `<root>/<FEED>/<date>/<FEED>_<date>.jsonl` */
export function partitionPath(root: string, feed: FeedRef, date: string | Date | number): string {
  const name = nameOf(feed);
  const day = dayOf(date);
  return `${normalizeRoot(root)}/${name}/${day}/${name}_${day}.jsonl`;
}

/** `<root>/_rejected/<FEED>/<date>/<FEED>_<date>.jsonl` */
export function rejectedPath(root: string, feed: FeedRef, date: string | Date | number): string {
  const name = nameOf(feed);
  const day = dayOf(date);
  return `${normalizeRoot(root)}/${REJECTED_DIR}/${name}/${day}/${name}_${day}.jsonl`;
}

/** Folder of one feed's partitions. */
function feedDir(root: string, feed: FeedRef): string {
  return `${normalizeRoot(root)}/${nameOf(feed)}`;
}

/** Checkpoint file of a consumer group; the group id is encoded so it stays one file name. */
export function checkpointPath(root: string, groupId: string): string {
  return `${normalizeRoot(root)}/${STATE_DIR}/${safeGroup(groupId)}.json`;
}

/**
 * Journal of an overwrite feed: the table changes since its last snapshot, one JSON line each
 * (`{"k":key,"v":line}`, `"v":null` for a deletion). Kept beside the checkpoint, not in the feed
 * folder: it is the consumer's state, not a partition.
 */
export function journalPath(root: string, groupId: string, feed: FeedRef): string {
  return `${normalizeRoot(root)}/${STATE_DIR}/${safeGroup(groupId)}${JOURNALS_SUFFIX}/${
    nameOf(feed)
  }.jsonl`;
}

/** Suffix of the folder of a group's table journals inside `_state`. */
export const JOURNALS_SUFFIX = ".tables";

function safeGroup(groupId: string): string {
  if (!groupId) throw new ValidationError("Refusing checkpoint path: empty consumer group id");
  return encodeURIComponent(groupId).replaceAll(".", "%2E");
}

/** The partitions of a feed (real date folders with their file), and anything else found there. */
export async function listPartitions(root: string, feed: FeedRef): Promise<FeedListing> {
  const name = nameOf(feed);
  const dir = feedDir(root, name);
  const partitions: Partition[] = [];
  const strays: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { partitions, strays };
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isDirectory || !isDay(entry.name)) {
      strays.push(`${dir}/${entry.name}`);
      continue;
    }
    const path = partitionPath(root, name, entry.name);
    try {
      const info = await Deno.stat(path);
      partitions.push({ date: entry.name, path, bytes: info.size });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      strays.push(`${dir}/${entry.name}`);
    }
  }
  partitions.sort((a, b) => a.date.localeCompare(b.date));
  strays.sort();
  return { partitions, strays };
}

/** Partition files and bytes per feed (feeds without a folder count zero). */
export async function lakeSizes(
  root: string,
  feeds: readonly FeedRef[],
): Promise<Record<string, { files: number; bytes: number }>> {
  const sizes: Record<string, { files: number; bytes: number }> = {};
  for (const feed of feeds) {
    const { partitions } = await listPartitions(root, feed);
    sizes[nameOf(feed)] = {
      files: partitions.length,
      bytes: partitions.reduce((sum, p) => sum + p.bytes, 0),
    };
  }
  return sizes;
}

function nameOf(feed: FeedRef): string {
  const name = typeof feed === "string" ? feed : feed?.name;
  assertSafeFeedName(name);
  return name;
}

/** The lake root without trailing slashes (`/` stays `/`); an empty root is refused. */
export function normalizeRoot(root: string): string {
  if (!root) throw new ValidationError("Refusing lake path: the lake root is empty");
  return root.replace(/\/+$/, "") || "/";
}
