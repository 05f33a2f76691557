/**
 * Reading the lake for a load: streams the planned files and turns their lines into batches of
 * parsed rows and rejections, with how far each file was read. Async and engine-free: it never
 * touches the database, so nothing is held open while it awaits the disk.
 *
 * The reader keeps its own view of the table's columns: a new field found in the data is a new
 * column from that line on (later lines must fit it), and the batch asks the apply step to add it.
 */
import { recordKey } from "../../config/feeds.ts";
import type { FileState } from "../bookkeeping.ts";
import { prefixHash, readLines } from "../lines.ts";
import { type ColumnLimits, ColumnRoom } from "../limits.ts";
import { type ColumnSet, columnSet, parseRecord } from "../records.ts";
import type { TableColumn } from "../schema.ts";
import { strategyOf } from "./modes.ts";
import type { Batch, BatchRow, FeedPlan, FileWork, LineRejection } from "./types.ts";

export interface ReadOptions {
  /** Lines for the next batch (written, rejected or blank): asked again for every batch. */
  batchRows: () => number;
  loadedAt: string;
  /** The engine's limits on columns: a field past them is its line's rejection. */
  limits?: ColumnLimits;
  /** Whether the engine returns text with NUL characters exactly (default: yes). */
  keepsNul?: boolean;
}

interface Touched {
  work: FileWork;
  /** Where this batch started reading the file, and how far it got. */
  start: number;
  bytesRead: number;
  lines: number;
  /** Read up to the planned size: nothing left but maybe a line still being written. */
  complete: boolean;
}

/**
 * Yields the plan's batches in order; the last one has `last` set (it is read before the one
 * before it is handed out). A plan with files always yields at least one batch, so the
 * bookkeeping of a file with nothing complete in it yet is saved too.
 */
export async function* readBatches(
  plan: FeedPlan,
  columns: TableColumn[],
  options: ReadOptions,
): AsyncGenerator<Batch> {
  const reader = new BatchReader(plan, columns, options);
  let ready: Batch | undefined;
  for await (const batch of reader.batches()) {
    if (ready) yield ready;
    ready = batch;
  }
  if (ready) yield { ...ready, last: true, keep: reader.keep };
}

/**
 * The items of `source`, each next one read while the caller works on the one before (a
 * server applies a batch while the lake is read on). A read that fails surfaces at its turn.
 */
export async function* readAhead<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    while (true) {
      const step = await next;
      if (step.done) return;
      next = source.next();
      next.catch(() => {}); // awaited at its turn: a failure is thrown there, not lost
      yield step.value;
    }
  } finally {
    // Stopped early (a failed apply, an abort): the read in flight ends, then the files close.
    await next.catch(() => {});
    await source.return(undefined);
  }
}

class BatchReader {
  readonly #plan: FeedPlan;
  readonly #options: ReadOptions;
  readonly #snapshot: boolean;
  #columns: ColumnSet;
  #first = true;
  /** Snapshot feeds: every key the file holds (the last batch removes the others). */
  readonly keep: Set<string> | undefined;

  // The batch being built.
  #rows: BatchRow[] = [];
  #rejections: LineRejection[] = [];
  #newColumns: TableColumn[] = [];
  #resets: string[] = [];
  #touched = new Map<string, Touched>();
  #lines = 0;

  constructor(plan: FeedPlan, columns: TableColumn[], options: ReadOptions) {
    this.#plan = plan;
    this.#options = options;
    const feed = plan.feed;
    const keys = new Set([...feed.primaryKey, ...feed.foreignKeys.map((fk) => fk.column)]);
    const room = options.limits ? new ColumnRoom(options.limits, columns, keys) : undefined;
    this.#columns = columnSet(columns, room, options.keepsNul);
    this.#snapshot = strategyOf(plan.feed).snapshot;
    this.keep = this.#snapshot ? new Set() : undefined;
  }

  async *batches(): AsyncGenerator<Batch> {
    let batchRows = this.#options.batchRows();
    for (const work of this.#plan.work) {
      if (work.reset) this.#resets.push(work.relative);
      const touched: Touched = {
        work,
        start: work.from,
        bytesRead: work.from,
        lines: work.firstLine - 1,
        complete: false,
      };
      this.#touched.set(work.relative, touched);
      for await (const lines of readLines(work.path, work.from, work.firstLine, work.size)) {
        for (const line of lines) {
          if (line.invalid) this.#refuse(line.number, work, "line is not valid UTF-8");
          else this.#line(line.text, line.number, work);
          touched.bytesRead = line.end;
          touched.lines = line.number;
          if (this.#lines >= batchRows) {
            yield await this.#take();
            batchRows = this.#options.batchRows();
            // The file goes on in the next batch, from here.
            touched.start = touched.bytesRead;
            this.#touched.set(work.relative, touched);
          }
        }
      }
      touched.complete = true;
    }
    if (this.#first || this.#lines > 0 || this.#touched.size > 0) yield await this.#take();
  }

  #refuse(number: number, work: FileWork, reason: string): void {
    this.#lines++;
    this.#rejections.push({ file: work.relative, line: number, reason });
  }

  #line(text: string, number: number, work: FileWork): void {
    this.#lines++;
    if (text.length === 0 || text === "\r") return; // blank lines carry nothing
    const parsed = parseRecord(text, this.#columns, this.#plan.feed.primaryKey);
    if (!parsed.ok) {
      this.#rejections.push({ file: work.relative, line: number, reason: parsed.reason });
      return;
    }
    const values = parsed.values;
    if (parsed.newColumns.length > 0) {
      const all = this.#columns.names.map((name, i) => ({ name, type: this.#columns.types[i] }));
      for (const column of parsed.newColumns) {
        values.push(column.value);
        all.push({ name: column.name, type: column.type });
        this.#newColumns.push({ name: column.name, type: column.type });
      }
      this.#columns.room?.admit(parsed.newColumns);
      this.#columns = columnSet(all, this.#columns.room, this.#columns.keepsNul);
    }
    this.#rows.push({ values, file: work.relative, line: number });
    this.keep?.add(recordKey(this.#plan.feed, parsed.record));
  }

  /** Hands out the batch built so far (rows padded to the final columns) and starts a new one. */
  async #take(): Promise<Batch> {
    const width = this.#columns.names.length;
    for (const row of this.#rows) {
      while (row.values.length < width) row.values.push(null);
    }
    const files: FileState[] = [];
    let bytes = 0;
    for (const t of this.#touched.values()) {
      bytes += t.bytesRead - t.start;
      files.push({
        path: t.work.relative,
        feed: this.#plan.feed.name,
        size: t.work.size,
        // A file read only partway keeps no mtime, so the next load does not skip it.
        mtime: t.complete ? t.work.mtime : null,
        lines: t.lines,
        bytesRead: t.bytesRead,
        headHash: await prefixHash(t.work.path, t.bytesRead),
        loadedAt: this.#options.loadedAt,
      });
    }
    const batch: Batch = {
      feed: this.#plan.feed,
      loadedAt: this.#options.loadedAt,
      resets: this.#resets,
      newColumns: this.#newColumns,
      columns: [...this.#columns.names],
      rows: this.#rows,
      rejections: this.#rejections,
      files,
      first: this.#first,
      last: false,
      bulk: this.#plan.bulk,
      lines: this.#lines,
      bytes,
    };
    this.#first = false;
    this.#rows = [];
    this.#rejections = [];
    this.#newColumns = [];
    this.#resets = [];
    this.#touched = new Map();
    this.#lines = 0;
    return batch;
  }
}
