/**
 * The warehouse loader: reads what the lake gained since the last load and upserts it into the
 * feed tables, each batch with its bookkeeping in the same transaction (on SQLite, adaptive
 * batches share one for up to a second), so a crash leaves the warehouse as it was at the last
 * commit and the next load redoes exactly what was not committed.
 *
 * - append feeds (streams): resume each file at the byte offset already loaded; a file that shrank
 *   or whose read prefix changed is reloaded from the start (its old rows deleted first, in the
 *   same transaction).
 * - overwrite feeds (tables): the table becomes exactly the latest snapshot file; keys that left
 *   it are deleted, except members still referenced by a foreign key, which become inferred
 *   placeholders again (`_INFERRED = 1`, attributes NULL).
 * - ignore feeds (static): a row is inserted once.
 * - a foreign key pointing to a missing row first inserts a placeholder there (`_INFERRED = 1`),
 *   completed (and `_INFERRED = 0`) when the real row is loaded.
 *
 * The parts, in load/: plan.ts (which files, from where), read.ts (the lake into batches, no
 * database), engine.ts (the schema step and the apply step, the same for both engines),
 * apply.ts (one batch as one list of statements, built by statements.ts from the engine's
 * dialect), modes.ts (one strategy per lake mode), run.ts (runLoad, which drives them).
 */
export { type LoadOptions, runLoad, THREAD_BYTES } from "./load/run.ts";
export type { LoadReport, LoadTotals, Rejection, TableReport } from "./load/report.ts";
export { WarehouseLoader } from "./load/engine.ts";

// The warehouse's public entry points, importable from this one module.
export { ensureFeedSchema } from "./feed_schema.ts";
export { adjustRowCount, forgetLakeFiles, readRowCounts, recountRows } from "./bookkeeping.ts";
