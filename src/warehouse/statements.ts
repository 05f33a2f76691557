/**
 * Every statement a load runs, built once from the engine's dialect (dialect.ts holds what the
 * engines spell differently; everything here is spelled the same on both): the feed rows'
 * upserts and inserts, the placeholders of foreign keys, the snapshot's deletes, the
 * bookkeeping and the row counts. Identifiers are quoted, values are always parameters.
 */
import type { Feed } from "../config/feeds.ts";
import { quoteIdent } from "./db.ts";
import type { Dialect } from "./dialect.ts";
import type { SqlValue, Statement } from "./engine.ts";
import { loadDataText } from "./load_data.ts";
import { INFERRED_COLUMN, LINEAGE_COLUMNS, LOADER_TABLES } from "./schema.ts";

const byKey = (feed: Feed) => feed.primaryKey.map((k) => `${quoteIdent(k)} = ?`).join(" AND ");

/** The columns a load writes, in order: the data columns, lineage, then `_INFERRED` (0). */
export function writtenColumns(columns: readonly string[], inferred: boolean): string[] {
  return [...columns, ...LINEAGE_COLUMNS, ...(inferred ? [INFERRED_COLUMN] : [])];
}

/**
 * Rows of a feed table: upserted by key (every other column updated, `_INFERRED` back to 0) or,
 * for insert-only feeds, inserted when the key is new.
 */
export function writeRows(
  dialect: Dialect,
  feed: Feed,
  columns: readonly string[],
  rows: number,
  upsert: boolean,
): string {
  return upsert
    ? dialect.upsert(feed.name, columns, feed.primaryKey, { rows })
    : dialect.insertOrIgnore(feed.name, columns, feed.primaryKey, rows);
}

/**
 * The update by key of a row already there: every non-key column of `columns` from the same
 * parameters the insert had (`params` maps the insert's parameters to the update's).
 */
export function updateByKey(
  feed: Feed,
  columns: readonly string[],
): { sql: string; params: (insert: readonly SqlValue[]) => SqlValue[] } {
  const set = columns.map((name, i) => ({ name, i })).filter((c) =>
    !feed.primaryKey.includes(c.name)
  );
  const keys = feed.primaryKey.map((k) => columns.indexOf(k));
  return {
    sql: `UPDATE ${quoteIdent(feed.name)} SET ${
      set.map((c) => `${quoteIdent(c.name)} = ?`).join(", ")
    } WHERE ${byKey(feed)}`,
    params: (insert) => [...set.map((c) => insert[c.i]), ...keys.map((i) => insert[i])],
  };
}

/**
 * The engine's bulk path for `values` (rows of `columns`, flat): LOAD DATA from a file the
 * loader writes (dialect.loadData must exist).
 */
export function loadRows(
  dialect: Dialect,
  feed: Feed,
  columns: readonly string[],
  values: readonly SqlValue[],
): Statement {
  return {
    sql: dialect.loadData!(feed.name, columns),
    infile: loadDataText(values, columns.length),
    rowLevel: true,
  };
}

export function savepoint(name: string): Statement {
  return { sql: `SAVEPOINT ${quoteIdent(name)}` };
}

export function releaseSavepoint(name: string): Statement {
  return { sql: `RELEASE SAVEPOINT ${quoteIdent(name)}` };
}

export function rollbackToSavepoint(name: string): Statement {
  return { sql: `ROLLBACK TO SAVEPOINT ${quoteIdent(name)}` };
}

/** The keys among `keys` (one value array per row, in key order) already in the table. */
export function selectKeys(feed: Feed, keys: readonly SqlValue[][]): Statement {
  const key = feed.primaryKey.map(quoteIdent);
  const one = key.length === 1 ? "?" : `(${key.map(() => "?").join(", ")})`;
  return {
    sql: `SELECT ${key.join(", ")} FROM ${quoteIdent(feed.name)} WHERE ${
      key.length === 1 ? key[0] : `(${key.join(", ")})`
    } IN (${keys.map(() => one).join(", ")})`,
    params: keys.flat(),
    rows: true,
  };
}

/** Placeholder rows (`_INFERRED = 1`) in `target` for ids not there yet. */
export function insertPlaceholders(
  dialect: Dialect,
  target: Feed,
  ids: readonly SqlValue[],
  loadedAt: string,
): Statement {
  const columns = [target.primaryKey[0], INFERRED_COLUMN, "_LOADED_AT"];
  return {
    sql: dialect.insertOrIgnore(target.name, columns, [target.primaryKey[0]], ids.length),
    params: ids.flatMap((id) => [id, 1, loadedAt]),
  };
}

/** Every key of a table (a snapshot's end compares them with the file's). */
export function allKeys(feed: Feed): Statement {
  return {
    sql: `SELECT ${feed.primaryKey.map(quoteIdent).join(", ")} FROM ${quoteIdent(feed.name)}`,
    rows: true,
  };
}

export function deleteByKey(feed: Feed, key: readonly SqlValue[]): Statement {
  return { sql: `DELETE FROM ${quoteIdent(feed.name)} WHERE ${byKey(feed)}`, params: key };
}

export function deleteFile(feed: Feed, file: string): Statement {
  return { sql: `DELETE FROM ${quoteIdent(feed.name)} WHERE "_SOURCE_FILE" = ?`, params: [file] };
}

/** Whether some row of `table` has `value` in `column`. */
export function isReferenced(table: string, column: string, value: SqlValue): Statement {
  return {
    sql: `SELECT 1 AS "HIT" FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} = ? LIMIT 1`,
    params: [value],
    rows: true,
  };
}

/** A real member that left its snapshot but is still referenced: a bare placeholder again. */
export function backToPlaceholder(
  feed: Feed,
  columns: readonly string[],
  key: readonly SqlValue[],
  loadedAt: string,
): Statement {
  const cleared = [...columns.filter((c) => !feed.primaryKey.includes(c)), "_SOURCE_FILE"]
    .concat("_SOURCE_LINE").map((c) => `${quoteIdent(c)} = NULL`);
  const inferred = quoteIdent(INFERRED_COLUMN);
  return {
    sql: `UPDATE ${quoteIdent(feed.name)} SET ${
      cleared.join(", ")
    }, "_LOADED_AT" = ?, ${inferred} = 1 WHERE ${byKey(feed)} AND ${inferred} = 0`,
    params: [loadedAt, ...key],
  };
}

/** Adds `delta` to a feed table's row count in the bookkeeping. */
export function addRowCount(feed: string, delta: number): Statement {
  return {
    sql: `UPDATE ${LOADER_TABLES} SET "ROW_COUNT" = "ROW_COUNT" + ? WHERE "FEED" = ?`,
    params: [delta, feed],
  };
}

/** The index on a foreign-key column, made when missing. */
export function createIndex(name: string, table: string, column: string): string {
  return `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(table)} (${
    quoteIdent(column)
  })`;
}

export function dropIndex(name: string): string {
  return `DROP INDEX IF EXISTS ${quoteIdent(name)}`;
}
