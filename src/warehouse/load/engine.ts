/**
 * The warehouse side of a load, the same for both engines: a schema step (feed_schema.ts), what
 * the planner needs of a feed, and the apply step (apply.ts: one batch as one list of
 * statements, which the engine runs in one transaction). Planning and reading the lake are
 * engine-free (plan.ts, read.ts); runLoad drives the three.
 *
 * The apply step's contract: everything in the batch (columns, resets, placeholders, rows,
 * bookkeeping, row counts) commits together or not at all. A storage failure (disk full, I/O
 * error) rolls back and throws a StorageError; only a row the database refuses for its content
 * becomes a rejection. Where DDL is not transactional (MySQL), a batch's new columns are added
 * first, in one statement, after the reader checked they fit (limits.ts).
 */
import type { Feed } from "../../config/feeds.ts";
import { DataError, DomainError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { fileStatesOf, LOADER_FILES_BY_FEED, rowCountOf } from "../bookkeeping.ts";
import type { SqlValue, Warehouse } from "../engine.ts";
import { ensureFeedSchema } from "../feed_schema.ts";
import { columnTypeOf, INFERRED_COLUMN, RESERVED_COLUMNS } from "../schema.ts";
import { applyBatch } from "./apply.ts";
import { asStorageError } from "./storage.ts";
import type { Batch, BatchCounts, FeedState } from "./types.ts";

/** Foreign-key values remembered per target table, at most (then forgotten and re-checked). */
const KEY_CACHE_LIMIT = 100_000;

export class WarehouseLoader {
  readonly label: string;
  readonly #warehouse: Warehouse;
  readonly #feeds: readonly Feed[];
  readonly #log: Logger;
  /** Foreign-key values known to exist in their target table. */
  readonly #known = new Map<string, Set<SqlValue>>();
  /** Feeds whose table has `_INFERRED`. */
  readonly #inferred = new Map<string, boolean>();

  constructor(warehouse: Warehouse, feeds: readonly Feed[], log: Logger) {
    this.#warehouse = warehouse;
    this.label = warehouse.label;
    this.#feeds = feeds;
    this.#log = log;
  }

  /**
   * The bookkeeping and every feed table exist with their declared columns. Returns the feeds
   * whose table could not be made, with the error (those feeds fail, the others load).
   */
  async ensureSchema(feeds: readonly Feed[]): Promise<Map<string, unknown>> {
    const failed = new Map<string, unknown>();
    try {
      for (const sql of this.#warehouse.dialect.loadSession.start) await this.#warehouse.run(sql);
      await ensureFeedSchema(this.#warehouse, feeds, (feed, error) => {
        const doing = `Cannot prepare the table of ${feed.name} in ${this.label}`;
        const typed = asStorageError(error, doing);
        failed.set(
          feed.name,
          typed instanceof DomainError
            ? typed
            : new DataError(`${doing}: ${(error as Error).message}`, { cause: error }),
        );
      });
    } catch (error) {
      throw asStorageError(error, `Cannot prepare the warehouse ${this.label}`);
    }
    return failed;
  }

  /** What the planner needs of one feed: its columns, its files' bookkeeping, its row count. */
  async feedState(feed: Feed): Promise<FeedState> {
    const w = this.#warehouse;
    const all = await w.dialect.columns(w, feed.name);
    this.#inferred.set(feed.name, all.some((c) => c.name === INFERRED_COLUMN));
    const columns = all.filter((c) => !RESERVED_COLUMNS.has(c.name.toUpperCase()))
      .map((c) => ({ name: c.name, type: columnTypeOf(c.type) }));
    const files = fileStatesOf(await w.all(LOADER_FILES_BY_FEED, [feed.name]));
    return { columns, files, rows: await rowCountOf(w, feed.name) };
  }

  /**
   * One batch in one transaction, or with `hold` in a transaction the next batches may share
   * (Warehouse.runStatements): it commits with a later batch, at the latest within a second.
   */
  async apply(batch: Batch, hold = false): Promise<BatchCounts> {
    const w = this.#warehouse;
    const feed = batch.feed;
    try {
      if (!w.dialect.transactionalDdl && batch.newColumns.length > 0) {
        for (const sql of w.dialect.addColumns(feed.name, batch.newColumns)) await w.run(sql);
      }
      const context = {
        dialect: w.dialect,
        feeds: this.#feeds,
        inferred: this.#inferred.get(feed.name) ?? false,
        known: this.#known,
      };
      const applied = await w.runStatements(() => applyBatch(context, batch), { hold });
      for (const column of batch.newColumns) {
        this.#log.info("warehouse.column_added", { feed: feed.name, ...column });
      }
      for (const [target, ids] of applied.known) this.#remember(target, ids);
      return applied.counts;
    } catch (error) {
      // Batches held before this one may be gone with it: their keys are no longer known.
      this.#known.clear();
      throw asStorageError(error, `Cannot load ${feed.name} into ${this.label}`);
    }
  }

  /** Ends the load (session settings back to normal). The connection stays open. */
  async finish(): Promise<void> {
    for (const sql of this.#warehouse.dialect.loadSession.end) await this.#warehouse.run(sql);
  }

  #remember(target: string, ids: SqlValue[]): void {
    let known = this.#known.get(target);
    if (!known) this.#known.set(target, known = new Set());
    if (known.size + ids.length > KEY_CACHE_LIMIT) known.clear();
    for (const id of ids) known.add(id);
  }
}
