/**
 * The engine-specific part of a load, kept small so each warehouse engine brings its own:
 * a schema step (tables, columns, bookkeeping) and an apply step (one batch, one transaction).
 * Planning and reading the lake are engine-free (plan.ts, read.ts); runLoad drives the three.
 *
 * The apply step's contract: everything in the batch (schema additions, resets, rows,
 * placeholders, bookkeeping, row counts) commits together or not at all. A storage failure
 * (disk full, I/O error) rolls back and throws a StorageError; only a row the database refuses
 * for its content (a constraint) becomes a rejection. On SQLite the step is synchronous from
 * BEGIN to COMMIT (no await inside), so no write transaction is ever held across an await.
 */
import type { Feed } from "../../config/feeds.ts";
import type { Batch, BatchCounts, FeedState } from "./types.ts";

export interface LoadEngine {
  /** Where the warehouse is, for messages (never a password). */
  readonly label: string;
  /** Schema step: the bookkeeping and every feed table exist with their declared columns. */
  ensureSchema(feeds: readonly Feed[]): Promise<void>;
  /** What the planner needs of one feed: its columns, its files' bookkeeping, its row count. */
  feedState(feed: Feed): Promise<FeedState>;
  /** Apply step: one batch in one transaction. */
  apply(batch: Batch): Promise<BatchCounts>;
  /** Ends the load (session settings back to normal). The connection stays open. */
  finish(): Promise<void>;
}
