/**
 * Writes Kafka batches into the lake: append, overwrite and ignore partitions, the quarantine,
 * and the checkpoint that makes a restart after a crash exactly-once. One writer per lake and
 * consumer group; batches are handled one at a time, in the order they arrive.
 *
 * Per batch: lines grouped per file and written with one call per file → fsync → checkpoint
 * (next offset per topic-partition, durable length per append file) → return, and only then does
 * the Kafka client commit the offset. On open, append files are cut back to their checkpointed
 * length, which drops the lines of a batch that was written but never checkpointed.
 *
 * Overwrite feeds: a batch appends its changes to the feed's journal (tables.ts); the snapshot
 * file is rewritten from the table in memory at most once per `snapshotIntervalMs`, by the first
 * batch after the interval or by a timer, and on close.
 *
 * Storage errors (ENOSPC, EIO, …) abort the batch with a StorageError naming the path: files it
 * appended to are cut back to their checkpointed length, nothing is checkpointed, and the Kafka
 * client commits nothing. If the lake cannot be put back (the cut or the checkpoint itself
 * failed), the writer refuses every later batch; reopening it repairs the lake from the
 * checkpoint on disk.
 */
import type { Feed } from "../config/feeds.ts";
import { DataError, StorageError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { RecordBatch } from "../kafka/client.ts";
import { appendAll, clearPaths, Pending, repairAppends, type Target } from "./appends.ts";
import { Checkpoint } from "./checkpoint.ts";
import {
  ensureDir,
  exists,
  parentOf,
  replaceAtomically,
  sizeIfExists,
  truncateTo,
} from "./durable.ts";
import { reconcileTopicIds } from "./identity.ts";
import { withLakeLock } from "./lock.ts";
import { claimLake, type LakeOwner } from "./owner.ts";
import {
  assertSafeFeedName,
  checkpointPath,
  dayOf,
  journalPath,
  normalizeRoot,
  partitionPath,
  rejectedPath,
} from "./layout.ts";
import { classify, quarantineDay, rejectionLine } from "./records.ts";
import { type Change, journalLines, SnapshotSchedule, Table } from "./tables.ts";

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
  /** Least time between two rewrites of one table feed's snapshot (default 5 s; 0: every batch). */
  snapshotIntervalMs?: number;
  /**
   * The claim on the root, when the caller holds it for longer than this writer (a restart
   * after an outage keeps it). Without it the writer claims the root itself until `close()`.
   */
  owner?: LakeOwner;
  /**
   * Kafka's topic ids (KafkaClient.topicIds). With it, a batch older than the checkpoint (which
   * would be skipped as already written) first checks that its topic was not re-created.
   */
  topicIds?: (topics: string[]) => Promise<ReadonlyMap<string, string>>;
}

/** Default least time between two snapshot rewrites of one overwrite feed. */
export const SNAPSHOT_INTERVAL_MS = 5_000;

const encoder = new TextEncoder();

export class LakeWriter {
  readonly root: string;
  #groupId: string;
  #feeds: Map<string, Feed>;
  #checkpoint: Checkpoint;
  #log: Logger;
  #now: () => number;
  #counters = new Map<string, FeedCounters>();
  /** Current table of each overwrite feed, loaded from its snapshot and journal on first use. */
  #tables = new Map<string, Table>();
  #schedule: SnapshotSchedule;
  /** Set once the lake could not be put back after a failure: every later batch is refused. */
  #broken: StorageError | undefined;
  #closed = false;
  #topicIds: LakeWriterOptions["topicIds"];
  /** The claim this writer took itself (released on close); none when the caller holds it. */
  #claim: LakeOwner | undefined;

  private constructor(options: LakeWriterOptions, root: string, checkpoint: Checkpoint) {
    this.root = root;
    this.#groupId = options.groupId;
    this.#feeds = new Map(options.feeds.map((f) => [f.name, f]));
    this.#checkpoint = checkpoint;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#topicIds = options.topicIds;
    this.#schedule = new SnapshotSchedule(options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS);
    for (const feed of options.feeds) {
      assertSafeFeedName(feed.name); // refuses unsafe names before anything runs
      this.#counters.set(feed.name, { written: 0, rejected: 0, ignored: 0 });
    }
  }

  /** Opens the writer and repairs the lake after a crash (see the module comment). */
  static async open(options: LakeWriterOptions): Promise<LakeWriter> {
    const root = normalizeRoot(options.root);
    await ensureDir(root);
    if (options.owner && (options.owner.root !== root || !options.owner.held())) {
      throw new DataError(`Cannot write the lake ${root}: the claim given is not on it`);
    }
    // One writer per root, before anything is read or repaired (owner.ts).
    const claim = options.owner ? undefined : await claimLake(root);
    try {
      const checkpoint = await Checkpoint.open(checkpointPath(root, options.groupId));
      const writer = new LakeWriter(options, root, checkpoint);
      writer.#claim = claim;
      // Lake lock order: job lock (JOB_LOCKS row) → load lock (kernel file lock) → lake lock.
      await withLakeLock(root, () => writer.#recover());
      return writer;
    } catch (error) {
      claim?.release();
      throw error;
    }
  }

  async #recover(): Promise<void> {
    const journals = [...this.#feeds.values()].filter((f) => f.mode === "overwrite")
      .map((feed) => journalPath(this.root, this.#groupId, feed));
    if (await clearPaths(this.root, this.#checkpoint, journals, this.#log)) {
      await this.#checkpoint.save();
    }
    await repairAppends(this.root, this.#checkpoint, this.#log);
    // Changes journaled but not yet in a snapshot reach the lake now, not at the next batch.
    for (const feed of this.#feeds.values()) {
      if (feed.mode !== "overwrite") continue;
      if (((await sizeIfExists(journalPath(this.root, this.#groupId, feed))) ?? 0) > 0) {
        await this.#flush(feed);
      }
    }
  }

  /**
   * Compares the topics' Kafka ids with those the checkpoint recorded its offsets under. A topic
   * with another id was deleted and created again: its offsets are dropped (its records are read
   * from its start) and one warning says so. Unknown ids (a client that gives none, a checkpoint
   * from before ids were kept) change nothing. Returns the re-created topics.
   */
  noteTopicIds(ids: ReadonlyMap<string, string>): Promise<string[]> {
    return withLakeLock(this.root, async () => {
      await this.#checkpoint.refresh();
      const { recreated, changed } = reconcileTopicIds(
        this.#checkpoint,
        this.#feeds,
        ids,
        this.#log,
      );
      if (changed) await this.#guarded(() => this.#checkpoint.save());
      return recreated;
    });
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
  async writeBatch(
    batch: RecordBatch,
    undecodable?: ReadonlyMap<string, string>,
  ): Promise<BatchResult> {
    const done = this.#checkpoint.nextOffset(batch.topic, batch.partition);
    const first = batch.records[0]?.offset;
    if (this.#topicIds && done !== undefined && first !== undefined && BigInt(first) < done) {
      await this.noteTopicIds(await this.#topicIds([batch.topic]));
    }
    let prepared: Prepared;
    try {
      prepared = this.#prepare(batch, undecodable);
    } catch (error) {
      return Promise.reject(error);
    }
    // Lake lock order: job lock (JOB_LOCKS row) → load lock (kernel file lock) → lake lock.
    return withLakeLock(this.root, () => this.#store(batch, prepared));
  }

  /** Writes the snapshots still pending and stops the timers. The writer takes no more batches. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#schedule.cancel();
    try {
      if (!this.#broken) await withLakeLock(this.root, () => this.#flushDirty());
    } finally {
      this.#claim?.release();
    }
  }

  /** `undecodable`: offset → reason, records whose registry format did not decode (quarantined). */
  #prepare(batch: RecordBatch, undecodable?: ReadonlyMap<string, string>): Prepared {
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
    const changes: Change[] = [];
    for (const record of records) {
      const reason = undecodable?.get(record.offset);
      const c = reason === undefined ? classify(feed, record, now) : rejected(reason);
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
    if (this.#broken) throw this.#broken;
    if (this.#closed) throw new DataError("Cannot write to the lake: the writer is closed");
    const { feed, result, now, lines, rejects, changes } = prepared;
    // Erasure may have rewritten files (and their lengths) since our last batch.
    await this.#checkpoint.refresh();

    // Only real folders and regular files on the way: anything else is set aside and reported.
    const paths = [...rejects.keys()].map((date) => rejectedPath(this.root, feed, date));
    if (feed.mode !== "overwrite") {
      paths.push(...[...lines.keys()].map((date) => partitionPath(this.root, feed, date)));
    } else if (changes.length > 0) {
      paths.push(journalPath(this.root, this.#groupId, feed), partitionPath(this.root, feed, now));
    }
    if (await clearPaths(this.root, this.#checkpoint, paths, this.#log)) {
      await this.#guarded(() => this.#checkpoint.save());
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
    // Append targets: the feed's partitions (append mode), the quarantine, a table's journal.
    const appends: Target[] = [];
    if (feed.mode === "append") {
      for (const [date, pending] of lines) {
        appends.push({ path: partitionPath(this.root, feed, date), pending });
        result.written += pending.count;
      }
    }
    for (const [date, pending] of rejects) {
      appends.push({ path: rejectedPath(this.root, feed, date), pending });
    }
    let table: Table | undefined;
    let snapshotNow = false;
    if (feed.mode === "overwrite" && changes.length > 0) {
      table = await this.#table(feed);
      // Due now: the snapshot itself makes the batch durable. Else its changes go to the journal.
      snapshotNow = this.#schedule.changed(feed.name, now);
      if (!snapshotNow) {
        const journal = new Pending();
        for (const line of journalLines(changes)) journal.add(line, true);
        appends.push({ path: journalPath(this.root, this.#groupId, feed), pending: journal });
      }
      result.written += changes.filter((c) => c.line !== null).length;
      if (snapshotNow) result.files++;
    }
    await appendAll(this.root, this.#checkpoint, appends, (work) => this.#guarded(work));
    result.files += appends.length;

    await this.#guarded(async () => {
      table?.apply(changes);
      if (snapshotNow) await this.#writeSnapshot(feed);
      this.#checkpoint.setNextOffset(batch.topic, batch.partition, batch.nextOffset);
      await this.#checkpoint.save();
    });
    if (table && !snapshotNow) this.#snapshotLater(feed, now);

    const counters = this.#counters.get(feed.name)!;
    counters.written += result.written;
    counters.rejected += result.rejected;
    counters.ignored += result.ignored;
    counters.lastBatchAt = new Date(now).toISOString();
    return result;
  }

  /** Runs `work`; if it fails, the lake may not match the writer's state: refuse what follows. */
  async #guarded(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.#broken = new StorageError(
        `${(error as Error)?.message ?? error} (the lake writer stopped; restarting the ` +
          `consumer repairs the lake from its checkpoint)`,
        { cause: error },
      );
      throw error;
    }
  }

  /** Writes the feed's snapshot from a timer once its interval has passed. */
  #snapshotLater(feed: Feed, now: number): void {
    if (this.#closed) return;
    this.#schedule.arm(feed.name, now, () => {
      if (this.#broken || this.#closed) return;
      withLakeLock(this.root, () => this.#flushDirty()).catch((error) =>
        this.#log.error("lake.snapshot_failed", { feed: feed.name, error })
      );
    });
  }

  /** Writes every snapshot that lags its table. Holds the lake lock. */
  async #flushDirty(): Promise<void> {
    if (this.#broken) return;
    await this.#guarded(async () => {
      await this.#checkpoint.refresh();
      for (const feed of this.#feeds.values()) {
        if (this.#schedule.isDirty(feed.name)) await this.#flush(feed);
      }
    });
  }

  /** Rewrites the feed's snapshot and checkpoints its emptied journal. Holds the lake lock. */
  async #flush(feed: Feed): Promise<void> {
    await this.#writeSnapshot(feed);
    await this.#checkpoint.save();
  }

  /**
   * Rewrites the feed's snapshot from its table, then empties its journal (the checkpoint, saved
   * by the caller, says so; a crash before that replays the journal: same table).
   */
  async #writeSnapshot(feed: Feed): Promise<void> {
    const table = await this.#table(feed);
    const now = this.#now();
    const path = partitionPath(this.root, feed, dayOf(now));
    const journal = journalPath(this.root, this.#groupId, feed);
    // A timer's snapshot may come long after the batch that cleared its way.
    await clearPaths(this.root, this.#checkpoint, [path, journal], this.#log);
    await replaceAtomically(path, table.chunks());
    const relative = this.#relative(journal);
    if (this.#checkpoint.fileLength(relative)) {
      await truncateTo(`${this.root}/${relative}`, 0);
      this.#checkpoint.setFileLength(relative, 0);
    }
    this.#schedule.written(feed.name, now);
  }

  /** The current table of an overwrite feed: its latest snapshot and journal, loaded once. */
  async #table(feed: Feed): Promise<Table> {
    let table = this.#tables.get(feed.name);
    if (!table) {
      table = await Table.load(this.root, feed, journalPath(this.root, this.#groupId, feed));
      this.#tables.set(feed.name, table);
    }
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
  changes: Change[];
}

function rejected(reason: string): { kind: "rejected"; reason: string } {
  return { kind: "rejected", reason };
}

function pendingFor(map: Map<string, Pending>, date: string): Pending {
  let pending = map.get(date);
  if (!pending) map.set(date, pending = new Pending());
  return pending;
}
