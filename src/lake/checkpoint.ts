/**
 * The consumer's checkpoint, kept in the lake beside the data it describes: per topic-partition
 * the next offset already durable in the lake, and per append file (partitions, quarantine and
 * table journals) its durable length. With it a restart after `kill -9` cuts off the lines of a
 * batch that was written but not checkpointed, and skips records already in the lake even when
 * Kafka's committed offset lags one batch behind: every record is in the lake exactly once.
 *
 * It also keeps each topic's Kafka id: a topic deleted and created again under the same name gets
 * a new one, and its offsets start again from 0, so the recorded offsets (which would skip the
 * new topic's first records as "already in the lake") are dropped, with one warning.
 *
 * Erasure shrinks files, so it rewrites the lengths of every checkpoint naming them
 * (`updateFileLengths`, under the lake lock); a running writer notices the checkpoint file
 * changed under it (`refresh`, under the lake lock) and takes the new lengths.
 */
import { DataError, DomainError } from "../core/errors.ts";
import {
  ensureDir,
  type FileStamp,
  parentOf,
  replaceAtomically,
  sameStamp,
  stampOf,
  storageError,
} from "./durable.ts";
import { readRegular } from "./entries.ts";
import { normalizeRoot, STATE_DIR } from "./layout.ts";

interface CheckpointData {
  version: 1;
  /** "topic:partition" → next offset to write (decimal string). */
  offsets: Record<string, string>;
  /** Path relative to the lake root → durable length in bytes. */
  files: Record<string, number>;
  /**
   * Topic → Kafka's topic id when its offsets were recorded. Absent in checkpoints written
   * before ids were kept, and for clients that give none: then offsets are trusted as before.
   */
  topics?: Record<string, string>;
}

const encoder = new TextEncoder();

export class Checkpoint {
  readonly path: string;
  #data: CheckpointData;
  /** The file as last read or written by us; another stamp means someone else rewrote it. */
  #stamp: FileStamp | undefined;

  private constructor(path: string, data: CheckpointData, stamp: FileStamp | undefined) {
    this.path = path;
    this.#data = data;
    this.#stamp = stamp;
  }

  /** Reads the checkpoint at `path`, or starts an empty one (creating its folder). */
  static async open(path: string): Promise<Checkpoint> {
    await ensureDir(parentOf(path));
    const read = await readCheckpoint(path);
    return new Checkpoint(path, read?.data ?? { version: 1, offsets: {}, files: {} }, read?.stamp);
  }

  /** Re-reads the file if someone else (erasure) rewrote it since we last read or wrote it. */
  async refresh(): Promise<boolean> {
    if (sameStamp(this.#stamp, await stampOf(this.path))) return false;
    const read = await readCheckpoint(this.path);
    if (!read) return false; // never saved yet: ours is the only copy
    this.#data = read.data;
    this.#stamp = read.stamp;
    return true;
  }

  /** The next offset not yet in the lake for a topic-partition (undefined: none recorded). */
  nextOffset(topic: string, partition: number): bigint | undefined {
    const offset = this.#data.offsets[`${topic}:${partition}`];
    return offset === undefined ? undefined : BigInt(offset);
  }

  setNextOffset(topic: string, partition: number, offset: string): void {
    this.#data.offsets[`${topic}:${partition}`] = offset;
  }

  /** The id of the topic whose offsets are recorded under `topic` (undefined: not known). */
  topicId(topic: string): string | undefined {
    return this.#data.topics?.[topic];
  }

  setTopicId(topic: string, id: string): void {
    (this.#data.topics ??= {})[topic] = id;
  }

  /** Forgets every offset of `topic` (a re-created topic starts again from its first record). */
  forgetOffsets(topic: string): string[] {
    const dropped: string[] = [];
    for (const key of Object.keys(this.#data.offsets)) {
      if (key.slice(0, key.lastIndexOf(":")) !== topic) continue;
      dropped.push(`${key.slice(key.lastIndexOf(":") + 1)}:${this.#data.offsets[key]}`);
      delete this.#data.offsets[key];
    }
    return dropped;
  }

  fileLength(relative: string): number | undefined {
    return this.#data.files[relative];
  }

  setFileLength(relative: string, length: number): void {
    this.#data.files[relative] = length;
  }

  forgetFile(relative: string): void {
    delete this.#data.files[relative];
  }

  files(): [string, number][] {
    return Object.entries(this.#data.files);
  }

  /** Writes the checkpoint atomically (temp file, fsync, rename, fsync folder). */
  async save(): Promise<void> {
    await replaceAtomically(this.path, encoder.encode(JSON.stringify(this.#data)));
    this.#stamp = await stampOf(this.path);
  }
}

async function readCheckpoint(
  path: string,
): Promise<{ data: CheckpointData; stamp: FileStamp | undefined } | undefined> {
  let text: string;
  let stamp: FileStamp | undefined;
  try {
    stamp = await stampOf(path);
    const bytes = await readRegular(path); // never through a link
    if (!bytes) return undefined;
    text = new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error instanceof DomainError ? error : storageError("read", path, error);
  }
  let data: CheckpointData;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DataError(`Cannot read lake checkpoint ${path}: ${(error as Error).message}`);
  }
  if (data?.version !== 1 || typeof data.offsets !== "object" || typeof data.files !== "object") {
    throw new DataError(`Cannot read lake checkpoint ${path}: unknown format`);
  }
  return { data, stamp };
}

/**
 * Sets the durable length of files that were rewritten in place of the consumer (erasure) in
 * every checkpoint of the lake that knows them. `lengths`: path relative to the root → new
 * length. The caller holds the lake lock, so no writer saves a checkpoint meanwhile.
 */
export async function updateFileLengths(
  root: string,
  lengths: ReadonlyMap<string, number>,
): Promise<void> {
  if (lengths.size === 0) return;
  const dir = `${normalizeRoot(root)}/${STATE_DIR}`;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw storageError("list", dir, error);
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const checkpoint = await Checkpoint.open(`${dir}/${entry.name}`);
    let changed = false;
    for (const [relative, length] of lengths) {
      if (checkpoint.fileLength(relative) === undefined) continue;
      checkpoint.setFileLength(relative, length);
      changed = true;
    }
    if (changed) await checkpoint.save();
  }
}
