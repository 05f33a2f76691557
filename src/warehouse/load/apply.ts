/**
 * The apply step of a load, written once for both engines: one batch as a list of statements
 * (statements.ts, from the engine's dialect) that the engine runs in one transaction
 * (Warehouse.runStatements). Each statement sees the result of the one before, so the list
 * decides as it goes: an insert or an update, a row refused for its content, a key to delete.
 *
 * Rows go in as multi-row statements (dialect.rowsPerStatement). Inserts and updates are told
 * apart exactly: the keys of a chunk already in the table are read first. A chunk the engine
 * refuses for one row's content is written again row by row, so only the bad rows become
 * rejections (only the failed statement is undone; the transaction goes on).
 */
import { type Feed, recordKey } from "../../config/feeds.ts";
import type { Dialect } from "../dialect.ts";
import type { Row, SqlValue, StatementList } from "../engine.ts";
import { fileStateUpsert } from "../bookkeeping.ts";
import { foreignKeyIndex, referencingColumns } from "../schema.ts";
import * as S from "../statements.ts";
import { strategyOf } from "./modes.ts";
import type { Batch, BatchCounts, BatchRow } from "./types.ts";

export interface ApplyContext {
  dialect: Dialect;
  /** Every declared feed (foreign-key targets, referencing tables). */
  feeds: readonly Feed[];
  /** Whether the feed's table has `_INFERRED` (it is referenced by a foreign key). */
  inferred: boolean;
  /** Foreign-key values known to be in their target already, per target table. */
  known: ReadonlyMap<string, ReadonlySet<SqlValue>>;
}

export interface Applied {
  counts: BatchCounts;
  /** Foreign-key values this batch made sure of, per target: known once it commits. */
  known: Map<string, SqlValue[]>;
}

export function* applyBatch(ctx: ApplyContext, batch: Batch): StatementList<Applied> {
  const { dialect } = ctx;
  const { feed } = batch;
  const counts: BatchCounts = { inserted: 0, updated: 0, deleted: 0, inferred: 0, rejections: [] };
  const inferredBy = new Map<string, number>();
  const known = new Map<string, SqlValue[]>();

  if (dialect.transactionalDdl) {
    if (batch.newColumns.length > 0) {
      for (const sql of dialect.addColumns(feed.name, batch.newColumns)) yield { sql };
    }
  }
  const bulk = batch.bulk && dialect.bulkIndexes;
  if (bulk && batch.first) {
    for (const fk of feed.foreignKeys) {
      yield { sql: S.dropIndex(foreignKeyIndex(feed.name, fk.column)) };
    }
  }
  for (const file of batch.resets) counts.deleted += (yield S.deleteFile(feed, file)).changes;

  // Placeholders first: the rows' foreign keys are checked as each statement runs.
  for (const fk of feed.foreignKeys) {
    const target = ctx.feeds.find((f) => f.name === fk.references)!;
    const at = batch.columns.indexOf(fk.column);
    if (at < 0) continue;
    const seen = ctx.known.get(target.name);
    const ids = [...new Set(batch.rows.map((r) => r.values[at]))]
      .filter((id) => id !== null && !seen?.has(id));
    for (let i = 0; i < ids.length; i += dialect.rowsPerStatement) {
      const chunk = ids.slice(i, i + dialect.rowsPerStatement);
      const added = (yield S.insertPlaceholders(dialect, target, chunk, batch.loadedAt)).changes;
      inferredBy.set(target.name, (inferredBy.get(target.name) ?? 0) + added);
      counts.inferred += added;
    }
    known.set(target.name, [...(known.get(target.name) ?? []), ...ids]);
  }

  yield* writeRows(ctx, batch, counts);

  if (batch.last && batch.keep) {
    const removed = yield* removeKeysNotIn(ctx, feed, batch.columns, batch.keep, batch.loadedAt);
    counts.deleted += removed.deleted;
    counts.updated += removed.cleared;
  }
  if (bulk && batch.last) {
    for (const fk of feed.foreignKeys) {
      yield { sql: S.createIndex(foreignKeyIndex(feed.name, fk.column), feed.name, fk.column) };
    }
  }
  for (const state of batch.files) {
    const [sql, params] = fileStateUpsert(dialect, state);
    yield { sql, params };
  }
  const delta = counts.inserted - counts.deleted;
  if (delta !== 0) yield S.addRowCount(feed.name, delta);
  for (const [target, added] of inferredBy) if (added) yield S.addRowCount(target, added);
  return { counts, known };
}

/** The batch's rows, chunk by chunk; counts inserts, updates and rejections. */
function* writeRows(ctx: ApplyContext, batch: Batch, counts: BatchCounts): StatementList<void> {
  const { dialect } = ctx;
  const { feed } = batch;
  const upsert = strategyOf(feed).write === "upsert";
  const columns = S.writtenColumns(batch.columns, ctx.inferred);
  const keyAt = feed.primaryKey.map((k) => batch.columns.indexOf(k));
  const perStatement = Math.max(
    1,
    Math.min(dialect.rowsPerStatement, Math.floor(dialect.maxParams / columns.length)),
  );
  const params = (rows: BatchRow[]) => {
    const out: SqlValue[] = [];
    for (const row of rows) {
      for (const value of row.values) out.push(value);
      out.push(row.file, row.line, batch.loadedAt);
      if (ctx.inferred) out.push(0);
    }
    return out;
  };
  const keyOf = (row: BatchRow) => keyAt.map((i) => row.values[i] as SqlValue);

  if (perStatement === 1) {
    yield* writeEach(ctx, batch, counts, columns, params, upsert);
    return;
  }
  // The engine's bulk path replaces whole rows: only where no foreign key points at them.
  if (upsert && !ctx.inferred && dialect.loadData && batch.rows.length > 0) {
    if (yield* loadRows(ctx, batch, counts, columns, params(byKey(batch.rows, keyAt)))) return;
  }
  for (let i = 0; i < batch.rows.length; i += perStatement) {
    const chunk = batch.rows.slice(i, i + perStatement);
    let existing: Set<string> | undefined;
    if (upsert) {
      const found = (yield S.selectKeys(feed, chunk.map(keyOf))).rows;
      existing = new Set(found.map((row: Row) => recordKey(feed, row)));
    }
    const sql = (rows: number) => S.writeRows(dialect, feed, columns, rows, upsert);
    let written = chunk;
    let changes = 0;
    const whole = yield { sql: sql(chunk.length), params: params(chunk), rowLevel: true };
    if (whole.error === undefined) changes = whole.changes;
    else {
      written = [];
      for (const row of chunk) {
        const one = yield { sql: sql(1), params: params([row]), rowLevel: true };
        if (one.error === undefined) {
          changes += one.changes;
          written.push(row);
        } else {
          counts.rejections.push({
            file: row.file,
            line: row.line,
            reason: (one.error as Error).message,
          });
        }
      }
    }
    if (!existing) {
      counts.inserted += changes; // insert-only: a key already there changes nothing
      continue;
    }
    for (const row of written) {
      const key = recordKey(
        feed,
        Object.fromEntries(feed.primaryKey.map((k, j) => [k, keyOf(row)[j]])),
      );
      if (existing.has(key)) counts.updated++;
      else {
        counts.inserted++;
        existing.add(key);
      }
    }
  }
}

/**
 * The rows in key order (a stable sort: of two lines with one key, the later stays later), so
 * the server inserts into its clustered index page after page instead of all over it.
 */
function byKey(rows: BatchRow[], keyAt: number[]): BatchRow[] {
  return rows.slice().sort((a, b) => {
    for (const i of keyAt) {
      const x = a.values[i] as string | number, y = b.values[i] as string | number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/**
 * The whole batch in one LOAD DATA (dialect.loadData), in a savepoint: when the server refuses
 * a row or bends a value (an error, a warning), it is undone and false says to write the rows
 * again in chunks, which name each refused line.
 */
function* loadRows(
  ctx: ApplyContext,
  batch: Batch,
  counts: BatchCounts,
  columns: readonly string[],
  values: SqlValue[],
): StatementList<boolean> {
  const rows = batch.rows.length;
  yield S.savepoint("LOAD_ROWS");
  const loaded = yield S.loadRows(ctx.dialect, batch.feed, columns, values);
  if (loaded.error === undefined && !loaded.warnings) {
    yield S.releaseSavepoint("LOAD_ROWS");
    // 1 per inserted row, 2 per replaced one (a key seen twice in the batch is an update too).
    const updated = loaded.changes - rows;
    counts.updated += updated;
    counts.inserted += rows - updated;
    return true;
  }
  yield S.rollbackToSavepoint("LOAD_ROWS");
  return false;
}

/**
 * One statement per row, where a statement costs no round trip (SQLite): an insert that does
 * nothing on a conflict, then, when the key was there, an update by key. A new row costs one
 * statement, and inserts and updates are told apart exactly without reading the keys first.
 */
function* writeEach(
  ctx: ApplyContext,
  batch: Batch,
  counts: BatchCounts,
  columns: readonly string[],
  params: (rows: BatchRow[]) => SqlValue[],
  upsert: boolean,
): StatementList<void> {
  const { feed } = batch;
  const insert = ctx.dialect.insertOrIgnore(feed.name, columns, feed.primaryKey, 1);
  const update = upsert ? S.updateByKey(feed, columns) : undefined;
  // One statement object and one parameter array for every row: the engine reads both before
  // the next row is made (no allocation per row).
  const values = params(batch.rows.slice(0, 1));
  const width = batch.columns.length;
  const statement = { sql: insert, params: values, rowLevel: true };
  for (const row of batch.rows) {
    const rowValues = row.values;
    for (let i = 0; i < width; i++) values[i] = rowValues[i];
    values[width] = row.file;
    values[width + 1] = row.line;
    const inserted = yield statement;
    if (inserted.error === undefined && inserted.changes > 0) {
      counts.inserted++;
      continue;
    }
    let error = inserted.error;
    if (error === undefined && update) {
      const updated = yield { sql: update.sql, params: update.params(values), rowLevel: true };
      if (updated.error === undefined) counts.updated++;
      error = updated.error;
    }
    if (error !== undefined) {
      counts.rejections.push({ file: row.file, line: row.line, reason: (error as Error).message });
    }
  }
}

/** Snapshot end: keys gone from it are deleted, or made placeholders while still referenced. */
function* removeKeysNotIn(
  ctx: ApplyContext,
  feed: Feed,
  columns: readonly string[],
  keep: Set<string>,
  loadedAt: string,
): StatementList<{ deleted: number; cleared: number }> {
  const counts = { deleted: 0, cleared: 0 };
  const references = ctx.inferred ? referencingColumns(feed, ctx.feeds) : [];
  for (const row of (yield S.allKeys(feed)).rows) {
    if (keep.has(recordKey(feed, row))) continue;
    const key = feed.primaryKey.map((k) => row[k]);
    let referenced = false;
    for (const ref of references) {
      if ((yield S.isReferenced(ref.table, ref.column, key[0])).rows.length > 0) {
        referenced = true;
        break;
      }
    }
    if (referenced) {
      counts.cleared += (yield S.backToPlaceholder(feed, columns, key, loadedAt)).changes;
    } else {
      counts.deleted += (yield S.deleteByKey(feed, key)).changes;
    }
  }
  return counts;
}
