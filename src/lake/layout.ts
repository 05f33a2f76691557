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
import { type FileIdentity, kindOf, lstatIfExists, type UnsafeEntry } from "./entries.ts";

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
  /** `FEED/DATE/FEED_DATE.jsonl`: the loader's key and the rows' `_SOURCE_FILE`. */
  relative: string;
  bytes: number;
  /** Last modification, ms since the epoch (null where the system does not say). */
  mtimeMs: number | null;
  /** The file listed: an open must find this same file (entries.ts `openRegular`). */
  identity: FileIdentity;
}

export interface FeedListing {
  /** Partition files, oldest date first: regular files in real date folders. */
  partitions: Partition[];
  /** Entries of the feed folder that are not a date folder holding its partition file. */
  strays: string[];
  /** Of those, what is neither a real folder nor a regular file where the lake keeps one. */
  unsafe: UnsafeEntry[];
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

/**
 * The partitions of a feed (real date folders holding a regular file, nothing followed through a
 * link), and anything else found there. `rejected`: the feed's quarantine instead.
 */
export async function listPartitions(
  root: string,
  feed: FeedRef,
  options: { rejected?: boolean } = {},
): Promise<FeedListing> {
  const name = nameOf(feed);
  const base = normalizeRoot(root);
  const listing: FeedListing = { partitions: [], strays: [], unsafe: [] };
  const folders = options.rejected ? [`${base}/${REJECTED_DIR}`] : [];
  const dir = options.rejected ? `${base}/${REJECTED_DIR}/${name}` : feedDir(base, name);
  for (const folder of [...folders, dir]) {
    const info = await lstatIfExists(folder);
    if (!info) return listing;
    if (!info.isDirectory) {
      listing.strays.push(folder);
      listing.unsafe.push({ path: folder, kind: kindOf(info) });
      return listing;
    }
  }
  for (const entry of await Array.fromAsync(Deno.readDir(dir))) {
    const at = `${dir}/${entry.name}`;
    if (!entry.isDirectory || !isDay(entry.name)) {
      listing.strays.push(at);
      // A link, fifo… anywhere, or a file where a date folder belongs: reported, not followed.
      if (!entry.isDirectory && (!entry.isFile || isDay(entry.name))) {
        listing.unsafe.push({ path: at, kind: kindOf(await Deno.lstat(at)) });
      }
      continue;
    }
    const relative = `${name}/${entry.name}/${name}_${entry.name}.jsonl`;
    const path = `${dir}/${entry.name}/${name}_${entry.name}.jsonl`;
    const file = await lstatIfExists(path);
    if (file?.isFile) {
      listing.partitions.push({
        date: entry.name,
        path,
        relative,
        bytes: file.size,
        mtimeMs: file.mtime?.getTime() ?? null,
        identity: { dev: file.dev, ino: file.ino },
      });
      continue;
    }
    // A date folder without its file; or the entry in the file's place, named as it is.
    listing.strays.push(file ? path : at);
    if (file) listing.unsafe.push({ path, kind: kindOf(file) });
  }
  listing.partitions.sort((a, b) => a.date.localeCompare(b.date));
  listing.strays.sort();
  return listing;
}

/** Names with a quarantine folder (`_rejected/<FEED>`, real folders only), sorted. */
export async function quarantinedFeeds(root: string): Promise<string[]> {
  const dir = `${normalizeRoot(root)}/${REJECTED_DIR}`;
  if (!(await lstatIfExists(dir))?.isDirectory) return [];
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && isSafeName(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

/** What a lake path is: a feed's partition, a quarantine partition, or a table journal. */
export type LakePath =
  | { kind: "partition" | "rejected"; feed: string; day: string; relative: string }
  | { kind: "journal"; feed: string; group: string; relative: string };

/**
 * What `path` (under `root`, or relative to it) is in the lake; undefined for anything else (a
 * checkpoint, a temp file, a name the lake never writes).
 */
export function parseLakePath(root: string, path: string): LakePath | undefined {
  const base = normalizeRoot(root);
  const relative = path.startsWith(`${base}/`) ? path.slice(base.length + 1) : path;
  if (relative.startsWith("/")) return undefined;
  const parts = relative.split("/");
  if (parts.length === 4 && parts[0] === REJECTED_DIR) {
    const partition = partitionOf(parts.slice(1));
    return partition && { kind: "rejected", ...partition, relative };
  }
  if (parts.length === 3 && parts[0] === STATE_DIR && parts[1].endsWith(JOURNALS_SUFFIX)) {
    const feed = parts[2].slice(0, -".jsonl".length);
    const group = decodeURIComponent(parts[1].slice(0, -JOURNALS_SUFFIX.length));
    if (!parts[2].endsWith(".jsonl") || !isSafeName(feed) || !group) return undefined;
    return { kind: "journal", feed, group, relative };
  }
  const partition = parts.length === 3 ? partitionOf(parts) : undefined;
  return partition && { kind: "partition", ...partition, relative };
}

/**
 * `FEED/DATE/FEED_DATE.jsonl` of a partition path, full (any root) or relative: the loader's key
 * for the file. Undefined when the path does not end like a partition.
 */
export function partitionKey(path: string): string | undefined {
  const parts = path.split("/").filter(Boolean).slice(-3);
  return partitionOf(parts) ? parts.join("/") : undefined;
}

function partitionOf(parts: string[]): { feed: string; day: string } | undefined {
  const [feed, day, file] = parts;
  if (parts.length !== 3 || !isSafeName(feed) || !isDay(day)) return undefined;
  return file === `${feed}_${day}.jsonl` ? { feed, day } : undefined;
}

function isSafeName(name: string): boolean {
  return KAFKA_TOPIC_NAME.test(name) && FEED_NAME.test(name);
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
