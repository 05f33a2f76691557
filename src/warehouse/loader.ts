/**
 * The warehouse loader: reads what the lake gained since the last load and upserts it into the
 * feed tables, one transaction per batch with the bookkeeping inside it, so a crash leaves the
 * warehouse as it was before the batch and the next load redoes exactly that batch.
 *
 * - append feeds (streams): resume each file at the byte offset already loaded; a file that shrank
 *   or whose read prefix changed is reloaded from the start (its old rows deleted first, in the
 *   same transaction).
 * - overwrite feeds (tables): the table becomes exactly the latest snapshot file (one
 *   transaction); keys that left it are deleted, except members still referenced by a foreign key,
 *   which become inferred placeholders again (`_INFERRED = 1`, attributes NULL).
 * - ignore feeds (static): INSERT OR IGNORE, so a row is inserted once.
 * - a foreign key pointing to a missing row first inserts a placeholder there (`_INFERRED = 1`),
 *   completed (and `_INFERRED = 0`) when the real row is loaded.
 */
import type { Config } from "../config/config.ts";
import { selectFeeds } from "../config/config.ts";
import { type Feed, recordKey } from "../config/feeds.ts";
import { DataError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { createProgress, type Progress } from "../core/progress.ts";
import { listPartitions } from "../lake/layout.ts";
import { type FileState, lakeRelative, readFileStates, saveFileState } from "./bookkeeping.ts";
import { type Database, quoteIdent } from "./db.ts";
import { prefixHash, readLines } from "./lines.ts";
import { acquireLoadLock } from "./lock.ts";
import { type ColumnSet, columnSet, parseRecord, type Value } from "./records.ts";
import {
  addColumn,
  createForeignKeyIndex,
  ensureFeedTables,
  foreignKeyIndex,
  hasInferredColumn,
  INFERRED_COLUMN,
  LINEAGE_COLUMNS,
  referencingColumns,
  tableColumns,
} from "./schema.ts";

// The warehouse's public entry points, importable from this one module.
export { ensureFeedTables } from "./schema.ts";
export { forgetLakeFiles } from "./bookkeeping.ts";

export interface Rejection {
  file: string;
  line: number;
  reason: string;
  /** `Cannot load FEED: reason (line N)` */
  message: string;
}

export interface TableReport {
  feed: string;
  /** Lake files read (new or grown since the last load). */
  files: number;
  inserted: number;
  updated: number;
  deleted: number;
  rejected: number;
  /** Placeholder rows this feed created in the tables its foreign keys reference. */
  inferred: number;
  ms: number;
  /** The first rejections (all are counted in `rejected`). */
  rejections: Rejection[];
}

/** The counts of a load, summed over its tables. */
export type LoadTotals = Pick<
  TableReport,
  "files" | "inserted" | "updated" | "deleted" | "rejected" | "inferred"
>;

export interface LoadReport {
  tables: TableReport[];
  totals: LoadTotals;
  ms: number;
  /** True when the signal stopped the load between batches (what was committed stays). */
  aborted: boolean;
}

export interface LoadOptions {
  config: Pick<Config, "feeds" | "dataLakeDir" | "warehousePath">;
  /** A connection of its own: the load keeps a transaction open across awaits. */
  db: Database;
  log: Logger;
  /** Feed names to load (default: all, in config order). Unknown names are a ValidationError. */
  feeds?: string[];
  signal?: AbortSignal;
  /** Rows per transaction for append and static feeds (default 50,000). */
  batchRows?: number;
  /** How long to wait for another running load before a ConflictError (default 5 s). */
  lockWaitMs?: number;
  /** Called after each committed batch with its number (1-based): progress and tests. */
  onBatchCommitted?: (batch: number) => void;
  /** Bytes to read from which a load that doubles a table drops and rebuilds its FK indexes. */
  bulkBytes?: number;
  /** A progress display per table (default: a bar on a terminal, nothing otherwise). */
  progress?: (label: string, totalBytes: number) => Progress;
}

const MAX_LISTED_REJECTIONS = 1000;
const MAX_LOGGED_REJECTIONS = 20;
const KEY_CACHE_LIMIT = 100_000;
/** Bulk loads (see FeedLoader.#isBulk): at least this many bytes to read... */
const BULK_BYTES = 32 << 20;
/** ...and more new lines (estimated at this many bytes each) than the table has rows. */
const BULK_BYTES_PER_ROW = 512;
/** SQLite page cache during a load: 16 MiB (negative = KiB), well inside the 200 MB budget. */
const LOAD_CACHE_SIZE = -16384;

/** Loads the lake into the warehouse; see the module comment. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  const feeds = selectFeeds(
    options.config,
    options.feeds,
    (unknown) => `Cannot load: unknown feed ${JSON.stringify(unknown[0])}`,
  );
  const lock = await acquireLoadLock(options.config.warehousePath, options.lockWaitMs ?? 5000);
  const tables: TableReport[] = [];
  let aborted = false;
  const batches = { committed: 0 };
  // A bigger page cache for the load: index pages of big tables stay in memory between batches.
  const cacheSize = options.db.prepare("PRAGMA cache_size").get()?.cache_size ?? -2000;
  options.db.exec(`PRAGMA cache_size = ${LOAD_CACHE_SIZE}`);
  try {
    ensureFeedTables(options.db, options.config.feeds);
    for (const feed of feeds) {
      if (options.signal?.aborted) {
        aborted = true;
        break;
      }
      const table = await new FeedLoader(options, feed, batches).load();
      tables.push(table);
      if (table.aborted) aborted = true;
    }
  } finally {
    options.db.exec(`PRAGMA cache_size = ${Number(cacheSize)}`);
    lock.release();
  }
  const sum = (key: keyof LoadTotals) => tables.reduce((total, table) => total + table[key], 0);
  const report: LoadReport = {
    tables,
    totals: {
      files: sum("files"),
      inserted: sum("inserted"),
      updated: sum("updated"),
      deleted: sum("deleted"),
      rejected: sum("rejected"),
      inferred: sum("inferred"),
    },
    ms: Math.round(performance.now() - started),
    aborted,
  };
  const { files, inserted, updated, deleted, rejected } = report.totals;
  options.log.info("warehouse.load_done", {
    feeds: tables.length,
    files,
    inserted,
    updated,
    deleted,
    rejected,
    batches: batches.committed,
    aborted: report.aborted,
    ms: report.ms,
  });
  return report;
}

/** A lake file with what there is to read in it. */
interface FileWork {
  path: string;
  relative: string;
  size: number;
  mtime: number | null;
  /** Byte offset and 1-based line number to start at. */
  from: number;
  firstLine: number;
  /** The file changed under what was loaded: delete its rows, reload from the start. */
  reset: boolean;
}

interface ForeignKeyTarget {
  index: number;
  insertPlaceholder: ReturnType<Database["prepare"]>;
  known: Set<Value>;
}

class FeedLoader {
  readonly #db: Database;
  readonly #feed: Feed;
  readonly #table: string;
  readonly #options: LoadOptions;
  readonly #batches: { committed: number };
  readonly #loadedAt = new Date().toISOString();
  readonly #report: TableReport & { aborted?: boolean };
  #columns!: ColumnSet;
  #write!: ReturnType<Database["prepare"]>;
  #targets: ForeignKeyTarget[] = [];
  /** Whether the table has `_INFERRED`: known from the first #prepare (columns added never are). */
  #inferred?: boolean;
  #inTransaction = false;
  /** Largest rowid before the rows written since the last tally: newer rowids are inserts. */
  #highWater = 0;
  /** Rows upserted since the last tally (inserted or updated). */
  #upserted = 0;
  #linesInBatch = 0;
  /** Files read in the open transaction, with how far. */
  #touched = new Map<string, { work: FileWork; bytesRead: number; lines: number }>();

  constructor(options: LoadOptions, feed: Feed, batches: { committed: number }) {
    this.#options = options;
    this.#db = options.db;
    this.#feed = feed;
    this.#table = quoteIdent(feed.name);
    this.#batches = batches;
    this.#report = {
      feed: feed.name,
      files: 0,
      inserted: 0,
      updated: 0,
      deleted: 0,
      rejected: 0,
      inferred: 0,
      ms: 0,
      rejections: [],
    };
  }

  async load(): Promise<TableReport & { aborted?: boolean }> {
    const started = performance.now();
    const work = await this.#plan();
    if (work.length > 0) {
      this.#prepare();
      const total = work.reduce((sum, w) => sum + w.size - w.from, 0);
      const progress = (this.#options.progress ?? createProgress)(this.#feed.name, total);
      try {
        if (this.#feed.mode === "overwrite") await this.#loadSnapshot(work[0], progress);
        else await this.#loadIncrements(work, progress);
      } catch (error) {
        this.#rollback();
        if (error instanceof DataError) throw error;
        throw new DataError(`Cannot load ${this.#feed.name}: ${(error as Error).message}`, {
          cause: error,
        });
      } finally {
        progress.finish();
      }
    }
    this.#report.files = work.length;
    this.#report.ms = Math.round(performance.now() - started);
    if (work.length > 0) {
      const { rejections: _, aborted: __, ...counts } = this.#report;
      this.#options.log.info("warehouse.table_loaded", counts);
    }
    return this.#report;
  }

  /** Which files have something new, from a stat of each and the bookkeeping. */
  async #plan(): Promise<FileWork[]> {
    const root = this.#options.config.dataLakeDir;
    const { partitions } = await listPartitions(root, this.#feed);
    const states = readFileStates(this.#db, this.#feed.name);
    // A table feed is its latest snapshot; older snapshot files do not matter any more.
    const candidates = this.#feed.mode === "overwrite" ? partitions.slice(-1) : partitions;
    const work: FileWork[] = [];
    for (const partition of candidates) {
      const info = await Deno.stat(partition.path);
      const size = info.size;
      const mtime = info.mtime?.getTime() ?? null;
      const relative = lakeRelative(partition.path);
      const state = states.get(relative);
      const file = { path: partition.path, relative, size, mtime };
      if (!state) {
        work.push({ ...file, from: 0, firstLine: 1, reset: false });
      } else if (state.size === size && state.mtime === mtime && mtime !== null) {
        continue; // unchanged since the last load: nothing new
      } else if (this.#feed.mode === "overwrite") {
        work.push({ ...file, from: 0, firstLine: 1, reset: false });
      } else if (size < state.bytesRead) {
        work.push({ ...file, from: 0, firstLine: 1, reset: true }); // truncated
      } else if ((await prefixHash(partition.path, state.bytesRead)) !== state.headHash) {
        work.push({ ...file, from: 0, firstLine: 1, reset: true }); // rewritten
      } else if (size > state.bytesRead) {
        work.push({ ...file, from: state.bytesRead, firstLine: state.lines + 1, reset: false });
      }
    }
    return work;
  }

  /** (Re)builds the write statement for the table's current columns. */
  #prepare(): void {
    const columns = tableColumns(this.#db, this.#feed.name);
    this.#columns = columnSet(columns);
    const names = [...this.#columns.names, ...LINEAGE_COLUMNS];
    const inferred = this.#inferred ??= hasInferredColumn(this.#db, this.#feed.name);
    const insertColumns = [...names, ...(inferred ? [INFERRED_COLUMN] : [])].map(quoteIdent);
    const placeholders = [...names.map(() => "?"), ...(inferred ? ["0"] : [])];
    const insert = `INSERT INTO ${this.#table} (${insertColumns.join(", ")}) VALUES (${
      placeholders.join(", ")
    })`;
    const key = this.#feed.primaryKey.map(quoteIdent).join(", ");
    if (this.#feed.mode === "ignore") {
      this.#write = this.#db.prepare(`${insert} ON CONFLICT (${key}) DO NOTHING`);
    } else {
      const set = insertColumns.filter((c) => !this.#feed.primaryKey.map(quoteIdent).includes(c))
        .map((c) => `${c} = excluded.${c}`);
      // Inserts and updates are told apart per batch by rowid (see #tally): cheaper than a
      // RETURNING clause or a lookup per row.
      this.#write = this.#db.prepare(
        `${insert} ON CONFLICT (${key}) DO UPDATE SET ${set.join(", ")}`,
      );
    }
    this.#targets = this.#feed.foreignKeys.map((fk) => {
      const target = this.#options.config.feeds.find((f) => f.name === fk.references)!;
      const old = this.#targets.find((t) => t.index === this.#columns.index.get(fk.column));
      return {
        index: this.#columns.index.get(fk.column)!,
        insertPlaceholder: this.#db.prepare(
          `INSERT INTO ${quoteIdent(target.name)} (${quoteIdent(target.primaryKey[0])}, ${
            quoteIdent(INFERRED_COLUMN)
          }, "_LOADED_AT") VALUES (?, 1, ?) ON CONFLICT DO NOTHING`,
        ),
        known: old?.known ?? new Set<Value>(),
      };
    });
  }

  async #loadIncrements(work: FileWork[], progress: Progress): Promise<void> {
    const bulk = this.#isBulk(work);
    try {
      await this.#loadFiles(work, progress, bulk);
    } finally {
      if (bulk) this.#restoreForeignKeyIndexes();
    }
  }

  /**
   * A load that at least doubles a table, by many megabytes: its foreign-key indexes are dropped
   * in the first batch and rebuilt at the end (one sort instead of a random b-tree insert per row,
   * about a third of the load time). A crash in between leaves them to ensureFeedTables.
   */
  #isBulk(work: FileWork[]): boolean {
    if (this.#feed.foreignKeys.length === 0) return false;
    const bytes = work.reduce((sum, w) => sum + w.size - w.from, 0);
    return bytes >= (this.#options.bulkBytes ?? BULK_BYTES) &&
      this.#maxRowid() < bytes / BULK_BYTES_PER_ROW;
  }

  #restoreForeignKeyIndexes(): void {
    const missing = this.#feed.foreignKeys.filter((fk) => !this.#hasIndex(fk.column));
    if (missing.length === 0) return;
    const own = !this.#inTransaction;
    if (own) this.#db.exec("BEGIN IMMEDIATE");
    for (const fk of missing) createForeignKeyIndex(this.#db, this.#feed.name, fk.column);
    if (own) this.#db.exec("COMMIT");
  }

  #hasIndex(column: string): boolean {
    return this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?")
      .get(foreignKeyIndex(this.#feed.name, column)) !== undefined;
  }

  async #loadFiles(work: FileWork[], progress: Progress, bulk: boolean): Promise<void> {
    const batchRows = this.#options.batchRows ?? 50_000;
    let done = 0;
    if (bulk) {
      this.#begin();
      for (const fk of this.#feed.foreignKeys) {
        this.#db.exec(
          `DROP INDEX IF EXISTS ${quoteIdent(foreignKeyIndex(this.#feed.name, fk.column))}`,
        );
      }
    }
    for (const file of work) {
      const before = done;
      this.#begin();
      if (file.reset) {
        this.#tally();
        const { changes } = this.#db.prepare(`DELETE FROM ${this.#table} WHERE _SOURCE_FILE = ?`)
          .run(file.relative);
        this.#report.deleted += Number(changes);
        this.#highWater = this.#maxRowid();
      }
      this.#touched.set(file.relative, {
        work: file,
        bytesRead: file.from,
        lines: file.firstLine - 1,
      });
      for await (const lines of readLines(file.path, file.from, file.firstLine)) {
        for (const line of lines) {
          this.#begin();
          this.#loadLine(line.text, line.number, file);
          this.#touched.set(file.relative, { work: file, bytesRead: line.end, lines: line.number });
          if (this.#linesInBatch >= batchRows) {
            await this.#commit();
            if (this.#options.signal?.aborted) {
              this.#report.aborted = true;
              return;
            }
          }
        }
        done = before + lastEnd(lines) - file.from;
        progress.update(done, file.relative);
      }
    }
    if (this.#inTransaction) {
      if (bulk) this.#restoreForeignKeyIndexes(); // inside the last batch
      await this.#commit();
    }
  }

  async #loadSnapshot(file: FileWork, progress: Progress): Promise<void> {
    this.#begin();
    const seen = new Set<string>();
    this.#touched.set(file.relative, { work: file, bytesRead: 0, lines: 0 });
    for await (const lines of readLines(file.path, 0, 1)) {
      for (const line of lines) {
        const record = this.#loadLine(line.text, line.number, file);
        if (record) seen.add(recordKey(this.#feed, record));
        this.#touched.set(file.relative, { work: file, bytesRead: line.end, lines: line.number });
      }
      progress.update(this.#touched.get(file.relative)!.bytesRead, file.relative);
    }
    this.#tally();
    this.#removeKeysNotIn(seen);
    await this.#commit();
  }

  /** Deletes rows whose key left the snapshot; referenced members become placeholders. */
  #removeKeysNotIn(seen: Set<string>): void {
    const key = this.#feed.primaryKey.map(quoteIdent).join(", ");
    const inferred = this.#inferred;
    const rows = this.#db.prepare(`SELECT rowid AS r, ${key} FROM ${this.#table}`).all();
    const remove = this.#db.prepare(`DELETE FROM ${this.#table} WHERE rowid = ?`);
    const referencedBy = inferred
      ? referencingColumns(this.#feed, this.#options.config.feeds).map(({ table, column }) =>
        this.#db.prepare(
          `SELECT 1 FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} = ? LIMIT 1`,
        )
      )
      : [];
    // A member that left the snapshot but is still referenced: back to a bare placeholder.
    const others = this.#columns.names.filter((c) => !this.#feed.primaryKey.includes(c));
    const lineage = LINEAGE_COLUMNS.filter((c) => c !== "_LOADED_AT");
    const cleared = [...others, ...lineage].map((c) => `${quoteIdent(c)} = NULL`);
    const toPlaceholder = inferred
      ? this.#db.prepare(
        `UPDATE ${this.#table} SET ${cleared.join(", ")}, "_LOADED_AT" = ?, ${
          quoteIdent(INFERRED_COLUMN)
        } = 1 WHERE rowid = ? AND ${quoteIdent(INFERRED_COLUMN)} = 0`,
      )
      : undefined;
    for (const row of rows) {
      if (seen.has(recordKey(this.#feed, row))) continue;
      const id = row[this.#feed.primaryKey[0]];
      if (toPlaceholder && referencedBy.some((stmt) => stmt.get(id) !== undefined)) {
        this.#report.updated += Number(toPlaceholder.run(this.#loadedAt, row.r as number).changes);
      } else {
        this.#report.deleted += Number(remove.run(row.r as number).changes);
      }
    }
  }

  /** Loads one line (counted in the batch, written or rejected); the record if it was written. */
  #loadLine(
    text: string,
    line: number,
    file: FileWork,
  ): Record<string, unknown> | undefined {
    this.#linesInBatch++;
    if (text.length === 0 || text === "\r") return undefined; // blank lines carry nothing
    const parsed = parseRecord(text, this.#columns, this.#feed.primaryKey);
    if (!parsed.ok) {
      this.#reject(file, line, parsed.reason);
      return undefined;
    }
    const values = parsed.values;
    if (parsed.newColumns.length > 0) {
      for (const column of parsed.newColumns) {
        addColumn(this.#db, this.#feed.name, column.name, column.type);
        values.push(column.value);
        this.#options.log.info("warehouse.column_added", {
          feed: this.#feed.name,
          column: column.name,
          type: column.type,
        });
      }
      this.#prepare();
    }
    for (const target of this.#targets) {
      const id = values[target.index];
      if (id === null || target.known.has(id)) continue;
      if (target.known.size >= KEY_CACHE_LIMIT) target.known.clear();
      const { changes } = target.insertPlaceholder.run(id, this.#loadedAt);
      this.#report.inferred += Number(changes);
      target.known.add(id);
    }
    try {
      if (this.#feed.mode === "ignore") {
        const { changes } = this.#write.run(...values, file.relative, line, this.#loadedAt);
        this.#report.inserted += Number(changes);
      } else {
        this.#write.run(...values, file.relative, line, this.#loadedAt);
        this.#upserted++;
      }
    } catch (error) {
      this.#reject(file, line, (error as Error).message);
      return undefined;
    }
    return parsed.record;
  }

  #reject(file: FileWork, line: number, reason: string): void {
    const report = this.#report;
    report.rejected++;
    const message = `Cannot load ${this.#feed.name}: ${reason} (line ${line})`;
    if (report.rejections.length < MAX_LISTED_REJECTIONS) {
      report.rejections.push({ file: file.relative, line, reason, message });
    }
    if (report.rejected <= MAX_LOGGED_REJECTIONS) {
      this.#options.log.warn("warehouse.record_rejected", {
        feed: this.#feed.name,
        file: file.relative,
        line,
        reason,
      });
    }
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#inTransaction = true;
    this.#linesInBatch = 0;
    this.#upserted = 0;
    this.#highWater = this.#maxRowid();
  }

  /**
   * Counts the rows upserted since the last tally: SQLite gives a new row a rowid above every
   * existing one, so rows above the high-water mark are inserts and the rest were updates.
   * Called before anything deletes rows, and before each commit.
   */
  #tally(): void {
    if (this.#upserted === 0) return;
    const inserted = Number(
      this.#db.prepare(`SELECT count(*) AS n FROM ${this.#table} WHERE rowid > ?`)
        .get(this.#highWater)!.n,
    );
    this.#report.inserted += inserted;
    this.#report.updated += this.#upserted - inserted;
    this.#upserted = 0;
    this.#highWater = this.#maxRowid();
  }

  /** Saves how far each touched file was read, then commits: both or neither. */
  async #commit(): Promise<void> {
    this.#tally();
    for (const { work, bytesRead, lines } of this.#touched.values()) {
      const complete = work.size - bytesRead < 1 ||
        (await this.#onlyPartialLineLeft(work, bytesRead));
      const state: FileState = {
        path: work.relative,
        feed: this.#feed.name,
        // A file read only partway keeps no mtime, so the next load does not skip it.
        size: work.size,
        mtime: complete ? work.mtime : null,
        lines,
        bytesRead,
        headHash: await prefixHash(work.path, bytesRead),
        loadedAt: this.#loadedAt,
      };
      saveFileState(this.#db, state);
    }
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
    this.#touched.clear();
    this.#batches.committed++;
    this.#options.onBatchCommitted?.(this.#batches.committed);
  }

  /** True when what is left after `bytesRead` holds no "\n" (a line still being written). */
  async #onlyPartialLineLeft(work: FileWork, bytesRead: number): Promise<boolean> {
    const left = work.size - bytesRead;
    if (left > 1 << 16) return false;
    const file = await Deno.open(work.path, { read: true });
    try {
      await file.seek(bytesRead, Deno.SeekMode.Start);
      const bytes = new Uint8Array(left);
      const n = (await file.read(bytes)) ?? 0;
      return !bytes.subarray(0, n).includes(10);
    } finally {
      file.close();
    }
  }

  #rollback(): void {
    this.#upserted = 0;
    if (!this.#inTransaction) return;
    this.#db.exec("ROLLBACK");
    this.#inTransaction = false;
    this.#touched.clear();
  }

  #maxRowid(): number {
    const row = this.#db.prepare(`SELECT max(rowid) AS m FROM ${this.#table}`).get();
    return Number(row?.m ?? 0);
  }
}

function lastEnd(lines: { end: number }[]): number {
  return lines[lines.length - 1].end;
}
