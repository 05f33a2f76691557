/**
 * runLoad: for each feed, plan (plan.ts), read the lake into batches (read.ts), and apply each
 * batch in a transaction (the engine's apply step; see LoadOptions.batchRows), yielding between
 * batches so a load inside `serve` never stalls the API. See loader.ts for what a load means.
 */
import { setImmediate } from "node:timers";
import type { Config } from "../../config/config.ts";
import { selectFeeds } from "../../config/config.ts";
import type { Feed } from "../../config/feeds.ts";
import { DataError, DomainError, UnavailableError } from "../../core/errors.ts";
import { withSchemaColumns } from "../../registry/columns.ts";
import type { Logger } from "../../core/log.ts";
import { createProgress, type Progress } from "../../core/progress.ts";
import type { Warehouse } from "../engine.ts";
import { acquireLoadLock } from "../lock.ts";
import { WarehouseLoader } from "./engine.ts";
import { planFeed } from "./plan.ts";
import { readAhead, readBatches } from "./read.ts";
import { readInThread } from "./read_thread.ts";
import { emptyTableReport, type LoadReport, type TableReport, totalsOf } from "./report.ts";
import { asStorageError } from "./storage.ts";
import type { LineRejection } from "./types.ts";

export interface LoadOptions {
  config:
    & Pick<Config, "feeds" | "dataLakeDir" | "warehousePath">
    & Partial<Pick<Config, "schemaRegistry">>;
  /** The warehouse to load into: a connection of the load's own (it is not shared meanwhile). */
  warehouse: Warehouse;
  log: Logger;
  /** Feed names to load (default: all, in config order). Unknown names are a ValidationError. */
  feeds?: string[];
  signal?: AbortSignal;
  /**
   * Lines per batch (one transaction each). By default the size adapts so that applying one
   * batch takes about the dialect's applyTargetMs, however busy the machine: on SQLite the event
   * loop (the API in `serve`) never waits longer than that for the load; such batches share
   * their commits (Warehouse.runStatements `hold`).
   */
  batchRows?: number;
  /** How long to wait for another running load before a ConflictError (default 5 s). */
  lockWaitMs?: number;
  /**
   * Bytes to read from which a load that doubles a table drops its foreign-key indexes and
   * rebuilds them in its last batch (faster, but that batch is long: Infinity in a server).
   */
  bulkBytes?: number;
  /**
   * Bytes to read from which the lake is read, parsed and checked on a thread of its own
   * (read_thread.ts) while this one writes (THREAD_BYTES suits a load run alone). Default:
   * never. Not in `serve`: with the reader thread ahead, API calls took 0.5-2.7 s during a
   * load in bench/api_latency.sh (in-thread: under 0.12 s); the cause is not found yet.
   */
  threadBytes?: number;
  /** A progress display per table (default: a bar on a terminal, nothing otherwise). */
  progress?: (label: string, totalBytes: number) => Progress;
}

/** For a load run alone (the `load` command): a Worker starts in some tens of milliseconds. */
export const THREAD_BYTES = 8 << 20;
const FIRST_BATCH_ROWS = 1_000;
const MIN_BATCH_ROWS = 100;
const MAX_BATCH_ROWS = 50_000;
const MAX_LISTED_REJECTIONS = 1000;
const MAX_LOGGED_REJECTIONS = 20;

/** Loads the lake into the warehouse; see loader.ts. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const started = performance.now();
  // Feeds in a registry format take their column types from their schemas (src/registry).
  const allFeeds = await withSchemaColumns(
    options.config.feeds,
    options.config.schemaRegistry,
    options.log,
  );
  const feeds = selectFeeds(
    { feeds: allFeeds },
    options.feeds,
    (unknown) => `Cannot load: unknown feed ${JSON.stringify(unknown[0])}`,
  );
  // Lock order: job lock (JOB_LOCKS row) → load lock (this kernel file lock) → lake lock
  // (_state/lake.lock); never the other way round.
  const lock = await acquireLoadLock(options.config.warehousePath, options.lockWaitMs ?? 5000);
  const tables: TableReport[] = [];
  let aborted = false;
  const batches = { committed: 0 };
  const failures: { feed: string; error: unknown }[] = [];
  try {
    const engine = new WarehouseLoader(options.warehouse, allFeeds, options.log);
    try {
      const unprepared = await engine.ensureSchema(allFeeds);
      for (const feed of feeds) {
        if (options.signal?.aborted) {
          aborted = true;
          break;
        }
        try {
          if (unprepared.has(feed.name)) throw unprepared.get(feed.name);
          const table = await loadFeed(engine, feed, options, batches);
          tables.push(table.report);
          if (table.aborted) aborted = true;
        } catch (error) {
          // A server gone is no feed's fault: the other feeds would only wait for it too.
          if (error instanceof UnavailableError) throw error;
          failures.push({ feed: feed.name, error });
          options.log.error("warehouse.feed_failed", {
            feed: feed.name,
            error: (error as Error).message,
            kind: error instanceof DomainError ? error.name : "Error",
          });
        }
      }
    } finally {
      await engine.finish();
    }
  } finally {
    lock.release();
  }
  const report: LoadReport = {
    tables,
    totals: totalsOf(tables),
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
    failed: failures.length,
    ms: report.ms,
  });
  if (failures.length > 0) throw failedFeeds(failures);
  return report;
}

/**
 * The error of a load in which some feeds failed (the others were loaded): a single failure
 * as it is (its type says what kind it is), several as one DataError naming each feed.
 */
function failedFeeds(failures: { feed: string; error: unknown }[]): unknown {
  if (failures.length === 1) return failures[0].error;
  return new DataError(
    `Cannot load ${failures.length} feeds: ${
      failures.map((f) => (f.error as Error).message).join("; ")
    }`,
    { cause: new AggregateError(failures.map((f) => f.error)) },
  );
}

async function loadFeed(
  engine: WarehouseLoader,
  feed: Feed,
  options: LoadOptions,
  batches: { committed: number },
): Promise<{ report: TableReport; aborted: boolean }> {
  const started = performance.now();
  const report = emptyTableReport(feed.name);
  const state = await engine.feedState(feed);
  const plan = await planFeed(options.config.dataLakeDir, feed, state, options.bulkBytes);
  for (const entry of plan.skipped) {
    options.log.warn("load.entry_skipped", {
      feed: feed.name,
      path: entry.path,
      kind: entry.kind,
      reason: "not a regular file: the lake follows no links",
    });
  }
  if (plan.work.length === 0) return { report, aborted: false };
  const reject = rejecter(report, feed, options.log);
  const progress = (options.progress ?? createProgress)(feed.name, plan.bytes);
  let aborted = false;
  try {
    let done = 0;
    const size = new BatchSize(options.batchRows, options.warehouse.dialect.applyTargetMs);
    const dialect = options.warehouse.dialect;
    const readOptions = {
      batchRows: () => size.rows,
      loadedAt: new Date().toISOString(),
      limits: dialect.columnLimits,
      keepsNul: dialect.keepsNul,
    };
    // On a thread of its own, the next batch is read while this one is written.
    const read = plan.bytes >= (options.threadBytes ?? Infinity)
      ? readInThread(plan, state.columns, readOptions, checkpointOf(options))
      : dialect.readsAhead
      ? readAhead(readBatches(plan, state.columns, readOptions))
      : readBatches(plan, state.columns, readOptions);
    for await (const batch of read) {
      const applyStarted = performance.now();
      // Adaptive batches share their commits (held up to a second); the last one commits them.
      const hold = !size.fixed && !batch.last && !options.signal?.aborted;
      const counts = await engine.apply(batch, hold);
      size.observe(batch.lines, performance.now() - applyStarted);
      // Counted only now: a batch that failed to commit rejected nothing.
      report.inserted += counts.inserted;
      report.updated += counts.updated;
      report.deleted += counts.deleted;
      report.inferred += counts.inferred;
      for (const rejection of [...batch.rejections, ...counts.rejections]) reject(rejection);
      done += batch.bytes;
      progress.update(done, batch.files.at(-1)?.path);
      batches.committed++;
      options.log.debug(hold ? "warehouse.batch_applied" : "warehouse.batch_committed", {
        feed: feed.name,
        batch: batches.committed,
        lines: batch.lines,
      });
      if (options.signal?.aborted && !batch.last && !hold) {
        aborted = true;
        break;
      }
      await yieldToEventLoop();
    }
  } catch (error) {
    throw loadError(error, feed);
  } finally {
    progress.finish();
  }
  report.files = plan.work.length;
  report.ms = Math.round(performance.now() - started);
  const { rejections: _, ...counts } = report;
  options.log.info("warehouse.table_loaded", counts);
  return { report, aborted };
}

/** SQLite: the reader thread checkpoints the WAL meanwhile, off the writer's thread. */
function checkpointOf(options: LoadOptions): { path: string; sql: string } | undefined {
  const sql = options.warehouse.dialect.walCheckpoint;
  const path = options.config.warehousePath;
  return sql && path !== ":memory:" ? { path, sql } : undefined;
}

function rejecter(report: TableReport, feed: Feed, log: Logger) {
  return ({ file, line, reason }: LineRejection) => {
    report.rejected++;
    const message = `Cannot load ${feed.name}: ${reason} (line ${line})`;
    if (report.rejections.length < MAX_LISTED_REJECTIONS) {
      report.rejections.push({ file, line, reason, message });
    }
    if (report.rejected <= MAX_LOGGED_REJECTIONS) {
      log.warn("warehouse.record_rejected", { feed: feed.name, file, line, reason });
    }
  };
}

/** Storage and domain errors as they are; anything else as a DataError naming the feed. */
function loadError(error: unknown, feed: Feed): unknown {
  const typed = asStorageError(error, `Cannot load ${feed.name}: cannot read the lake`);
  if (typed instanceof DomainError) return typed;
  return new DataError(`Cannot load ${feed.name}: ${(error as Error).message}`, { cause: error });
}

/** Lines per batch: fixed when given, else sized from how fast the last batches were applied. */
class BatchSize {
  readonly fixed: boolean;
  #rows: number;
  /** Lines applied per millisecond, smoothed. */
  #rate = 0;

  readonly #targetMs: number;

  constructor(fixed: number | undefined, targetMs: number) {
    this.fixed = fixed !== undefined;
    this.#targetMs = targetMs;
    this.#rows = fixed ?? FIRST_BATCH_ROWS;
  }

  get rows(): number {
    return this.#rows;
  }

  observe(lines: number, ms: number): void {
    if (this.fixed || lines < MIN_BATCH_ROWS) return;
    const rate = lines / Math.max(ms, 1);
    this.#rate = this.#rate === 0 ? rate : 0.5 * this.#rate + 0.5 * rate;
    const rows = Math.round(this.#rate * this.#targetMs);
    this.#rows = Math.min(MAX_BATCH_ROWS, Math.max(MIN_BATCH_ROWS, rows));
  }
}

/**
 * A turn of the event loop: incoming requests and due timers run between two batches. Not
 * setTimeout(0): chained timers are clamped to 1-4 ms each, idle time that cost a 1M-line load
 * about 5 s over its thousands of batches; setImmediate costs microseconds.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
