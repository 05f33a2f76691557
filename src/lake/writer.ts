/**
 * Writes Kafka batches into the lake: append, overwrite and ignore partitions, the quarantine,
 * and the checkpoint that makes a restart after a crash exactly-once. One writer per lake and
 * consumer group; batches are handled one at a time, in the order they arrive.
 *
 * Per batch: lines grouped per file and written with one call per file → fsync → checkpoint
 * (next offset per topic-partition, durable length per append file) → return, and only then does
 * the Kafka client commit the offset. On open, append files are cut back to their checkpointed
 * length, which drops the lines of a batch that was written but never checkpointed.
 */
import type { Feed } from "../config/feeds.ts";
import { DataError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { RecordBatch } from "../kafka/client.ts";
import { Checkpoint } from "./checkpoint.ts";
import {
  appendDurably,
  ensureDir,
  exists,
  parentOf,
  replaceAtomically,
  sizeOf,
  syncDir,
  truncateTo,
} from "./durable.ts";
import { withLakeLock } from "./lock.ts";
import {
  assertSafeFeedName,
  checkpointPath,
  dayOf,
  listPartitions,
  normalizeRoot,
  partitionPath,
  rejectedPath,
} from "./layout.ts";
import { classify, quarantineDay, rejectionLine } from "./records.ts";
import { recordKey } from "../config/feeds.ts";

export interface FeedCounters {
  written: number;
  rejected: number;
  ignored: number;
  /** ISO time of the last batch written for the feed. */
  lastBatchAt?: string;
}

export interface BatchResult {
  feed: string;
  partition: number;
  written: number;
  rejected: number;
  ignored: number;
  /** Records already in the lake (delivered again after a restart). */
  skipped: number;
  files: number;
}

export interface LakeWriterOptions {
  root: string;
  groupId: string;
  feeds: readonly Feed[];
  log: Logger;
  /** Clock for table and static partition dates; injectable for tests. */
  now?: () => number;
}

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Lines bound for one file, concatenated into one buffer at write time. */
class Pending {
  chunks: Uint8Array[] = [];
  bytes = 0;
  count = 0;
  add(line: Uint8Array): void {
    this.chunks.push(line);
    this.bytes += line.length + 1;
    this.count++;
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
      out[at++] = NEWLINE;
    }
    return out;
  }
}

export class LakeWriter {
  readonly root: string;
  #feeds: Map<string, Feed>;
  #checkpoint: Checkpoint;
  #log: Logger;
  #now: () => number;
  #counters = new Map<string, FeedCounters>();
  /** Current table of each overwrite feed: recordKey → line. Loaded from its latest snapshot. */
  #tables = new Map<string, Map<string, Uint8Array>>();

  private constructor(options: LakeWriterOptions, root: string, checkpoint: Checkpoint) {
    this.root = root;
    this.#feeds = new Map(options.feeds.map((f) => [f.name, f]));
    this.#checkpoint = checkpoint;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    for (const feed of options.feeds) {
      assertSafeFeedName(feed.name); // refuses unsafe names before anything runs
      this.#counters.set(feed.name, { written: 0, rejected: 0, ignored: 0 });
    }
  }

  /** Opens the writer and repairs the lake after a crash (see the module comment). */
  static async open(options: LakeWriterOptions): Promise<LakeWriter> {
    const root = normalizeRoot(options.root);
    await ensureDir(root);
    const checkpoint = await Checkpoint.open(checkpointPath(root, options.groupId));
    const writer = new LakeWriter(options, root, checkpoint);
    await writer.#recover();
    return writer;
  }

  async #recover(): Promise<void> {
    let changed = false;
    for (const [relative, length] of this.#checkpoint.files()) {
      const path = `${this.root}/${relative}`;
      if (!(await exists(path))) {
        // Removed since (retention): nothing to repair.
        this.#checkpoint.forgetFile(relative);
        changed = true;
        continue;
      }
      const dropped = await truncateTo(path, length);
      if (dropped > 0) {
        this.#log.warn("lake.recovered", { file: relative, droppedBytes: dropped });
      }
      const size = await sizeOf(path);
      if (size !== length) {
        // Shorter than checkpointed: edited since (erasure). Its current length is the truth.
        this.#checkpoint.setFileLength(relative, size);
        changed = true;
      }
    }
    if (changed) await this.#checkpoint.save();
  }

  /** Per-feed counters since the writer opened. */
  stats(): Record<string, FeedCounters> {
    return Object.fromEntries([...this.#counters].map(([name, c]) => [name, { ...c }]));
  }

  /**
   * Writes one batch durably; resolves once it and the checkpoint are on disk. Records are sorted
   * into files before taking the lake lock, so with batches of several partitions in flight the
   * parsing of one overlaps the disk writes of another.
   */
  writeBatch(batch: RecordBatch): Promise<BatchResult> {
    let prepared: Prepared;
    try {
      prepared = this.#prepare(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    return withLakeLock(this.root, () => this.#store(batch, prepared));
  }

  #prepare(batch: RecordBatch): Prepared {
    const feed = this.#feeds.get(batch.topic);
    if (!feed) throw new DataError(`Cannot write topic ${batch.topic} to the lake: not a feed`);
    const result: BatchResult = {
      feed: feed.name,
      partition: batch.partition,
      written: 0,
      rejected: 0,
      ignored: 0,
      skipped: 0,
      files: 0,
    };
    const now = this.#now();
    const done = this.#checkpoint.nextOffset(batch.topic, batch.partition);
    let records = batch.records;
    if (done !== undefined && records.length > 0 && BigInt(records[0].offset) < done) {
      records = records.filter((r) => BigInt(r.offset) >= done);
      result.skipped = batch.records.length - records.length;
    }

    const lines = new Map<string, Pending>(); // by partition date
    const rejects = new Map<string, Pending>(); // by quarantine date
    const changes: { key: string; line: Uint8Array | null }[] = [];
    for (const record of records) {
      const c = classify(feed, record, now);
      if (c.kind === "line") {
        if (feed.mode === "overwrite") changes.push({ key: c.key, line: c.line });
        else pendingFor(lines, c.date).add(c.line);
      } else if (c.kind === "tombstone") {
        changes.push({ key: c.key, line: null });
      } else {
        const date = quarantineDay(feed, record, now);
        pendingFor(rejects, date).add(encoder.encode(rejectionLine(record, c.reason, now)));
        result.rejected++;
      }
    }

    return { feed, result, now, lines, rejects, changes };
  }

  async #store(batch: RecordBatch, prepared: Prepared): Promise<BatchResult> {
    const { feed, result, now, lines, rejects, changes } = prepared;
    // Append targets: the feed's partitions (append mode) and the quarantine.
    const appends: { path: string; pending: Pending }[] = [];
    if (feed.mode === "append") {
      for (const [date, pending] of lines) {
        appends.push({ path: partitionPath(this.root, feed, date), pending });
      }
    }
    for (const [date, pending] of rejects) {
      appends.push({ path: rejectedPath(this.root, feed, date), pending });
    }
    await this.#appendAll(appends);
    if (feed.mode === "append") { for (const p of lines.values()) result.written += p.count; }

    if (feed.mode === "overwrite" && changes.length > 0) {
      await this.#writeSnapshot(feed, changes, now);
      result.written += changes.filter((c) => c.line !== null).length;
      result.files++;
    }
    if (feed.mode === "ignore") {
      for (const [date, pending] of lines) {
        const path = partitionPath(this.root, feed, date);
        if (await exists(path)) {
          result.ignored += pending.count;
          continue;
        }
        await ensureDir(parentOf(path));
        await replaceAtomically(path, pending.join());
        result.written += pending.count;
        result.files++;
      }
    }
    result.files += appends.length;

    this.#checkpoint.setNextOffset(batch.topic, batch.partition, batch.nextOffset);
    await this.#checkpoint.save();

    const counters = this.#counters.get(feed.name)!;
    counters.written += result.written;
    counters.rejected += result.rejected;
    counters.ignored += result.ignored;
    counters.lastBatchAt = new Date(now).toISOString();
    return result;
  }

  /** Appends each target's lines with one write, after recording new files in the checkpoint. */
  async #appendAll(targets: { path: string; pending: Pending }[]): Promise<void> {
    const fresh: string[] = [];
    for (const { path } of targets) {
      const relative = this.#relative(path);
      if (this.#checkpoint.fileLength(relative) === undefined) {
        await ensureDir(parentOf(path));
        // A file this group never wrote: whatever is there now is not ours to cut back.
        this.#checkpoint.setFileLength(relative, await sizeOf(path));
        fresh.push(path);
      }
    }
    // The new files must be known before they get lines, or a crash would leave them uncut.
    if (fresh.length > 0) await this.#checkpoint.save();
    for (const { path, pending } of targets) {
      const length = await appendDurably(path, pending.join());
      this.#checkpoint.setFileLength(this.#relative(path), length);
    }
    for (const path of fresh) await syncDir(parentOf(path));
  }

  async #writeSnapshot(
    feed: Feed,
    changes: { key: string; line: Uint8Array | null }[],
    now: number,
  ): Promise<void> {
    const table = await this.#table(feed);
    for (const { key, line } of changes) {
      if (line === null) table.delete(key);
      else table.set(key, line);
    }
    const pending = new Pending();
    for (const line of table.values()) pending.add(line);
    const path = partitionPath(this.root, feed, dayOf(now));
    await ensureDir(parentOf(path));
    await replaceAtomically(path, pending.join());
  }

  /** The current table of an overwrite feed: its latest snapshot file, loaded once. */
  async #table(feed: Feed): Promise<Map<string, Uint8Array>> {
    let table = this.#tables.get(feed.name);
    if (table) return table;
    table = new Map();
    const { partitions } = await listPartitions(this.root, feed);
    const latest = partitions.at(-1);
    if (latest) {
      const text = decoder.decode(await Deno.readFile(latest.path));
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        let value: Record<string, unknown>;
        try {
          value = JSON.parse(line);
        } catch (error) {
          throw new DataError(
            `Cannot load ${feed.name} snapshot ${latest.path}: ${(error as Error).message}`,
          );
        }
        table.set(recordKey(feed, value), encoder.encode(line));
      }
    }
    this.#tables.set(feed.name, table);
    return table;
  }

  #relative(path: string): string {
    return path.slice(this.root.length + 1);
  }
}

interface Prepared {
  feed: Feed;
  result: BatchResult;
  now: number;
  lines: Map<string, Pending>;
  rejects: Map<string, Pending>;
  changes: { key: string; line: Uint8Array | null }[];
}

function pendingFor(map: Map<string, Pending>, date: string): Pending {
  let pending = map.get(date);
  if (!pending) map.set(date, pending = new Pending());
  return pending;
}
