/**
 * The loader's memory of the lake (table _LOADER_FILES): for each file, how many bytes and lines
 * were loaded and what the file looked like then (size, mtime, a hash of the read prefix). Paths
 * are stored relative to the lake root (`FEED/YYYY-MM-DD/FEED_YYYY-MM-DD.jsonl`), the same text as
 * the rows' `_SOURCE_FILE`, so moving the lake folder does not trigger a reload.
 *
 * Also the row count of every feed table (table _LOADER_TABLES), kept by the loader in the same
 * transaction as each batch, so /status reads counts without counting. Whatever else deletes
 * feed rows (retention, erasure) adjusts or recounts them with the functions at the end.
 */
import { partitionKey } from "../lake/layout.ts";
import { quoteIdent } from "./db.ts";
import type { Dialect } from "./dialect.ts";
import type { Sql, SqlValue } from "./engine.ts";
import { LOADER_FILES, LOADER_TABLES } from "./schema.ts";
import { addRowCount } from "./statements.ts";

export interface FileState {
  path: string;
  feed: string;
  size: number;
  mtime: number | null;
  lines: number;
  bytesRead: number;
  headHash: string;
  loadedAt: string;
}

/** `FEED/DATE/FILE` from a full or relative partition path (the lake parses its own paths). */
export function lakeRelative(path: string): string {
  return partitionKey(path) ?? path;
}

/** The `_LOADER_FILES` rows of one feed (parameter: the feed's name). */
export const LOADER_FILES_BY_FEED = `SELECT * FROM ${LOADER_FILES} WHERE "FEED" = ?`;

/** `_LOADER_FILES` rows (either engine) by lake path. */
export function fileStatesOf(rows: Record<string, unknown>[]): Map<string, FileState> {
  return new Map(rows.map((row) => {
    const state: FileState = {
      path: String(row.PATH),
      feed: String(row.FEED),
      size: Number(row.SIZE),
      mtime: row.MTIME === null ? null : Number(row.MTIME),
      lines: Number(row.LINES),
      bytesRead: Number(row.BYTES_READ),
      headHash: String(row.HEAD_HASH),
      loadedAt: String(row.LOADED_AT),
    };
    return [state.path, state];
  }));
}

const FILE_STATE_COLUMNS = [
  "PATH",
  "FEED",
  "SIZE",
  "MTIME",
  "LINES",
  "BYTES_READ",
  "HEAD_HASH",
  "LOADED_AT",
];

/** The upsert of one `_LOADER_FILES` row in an engine's dialect, and its parameters. */
export function fileStateUpsert(dialect: Dialect, state: FileState): [string, SqlValue[]] {
  return [
    dialect.upsert(LOADER_FILES, FILE_STATE_COLUMNS, ["PATH"]),
    [
      state.path,
      state.feed,
      state.size,
      state.mtime,
      state.lines,
      state.bytesRead,
      state.headHash,
      state.loadedAt,
    ],
  ];
}

/**
 * Forgets lake files that no longer exist (retention deleted them), full or lake-relative paths.
 * Their warehouse rows stay: removing rows is retention's decision, by event time. Returns how
 * many bookkeeping rows went.
 */
export async function forgetLakeFiles(sql: Sql, paths: string[]): Promise<number> {
  if (!(await sql.dialect.tables(sql)).includes(LOADER_FILES)) return 0;
  let removed = 0;
  for (const path of paths) {
    removed += (await sql.run(`DELETE FROM ${LOADER_FILES} WHERE PATH = ?`, [lakeRelative(path)]))
      .changes;
  }
  return removed;
}

/** Row counts of the feed tables from the bookkeeping (cheap: no table is counted). */
export async function readRowCounts(warehouse: Sql): Promise<Map<string, number>> {
  // No load has run yet: nothing counted.
  if (!(await warehouse.dialect.tables(warehouse)).includes(LOADER_TABLES)) return new Map();
  const rows = await warehouse.all(`SELECT "FEED", "ROW_COUNT" FROM ${LOADER_TABLES}`);
  return new Map(rows.map((row) => [String(row.FEED), Number(row.ROW_COUNT)]));
}

/** One feed table's row count from the bookkeeping (0 when it has none yet). */
export async function rowCountOf(sql: Sql, feed: string): Promise<number> {
  const row = await sql.get(`SELECT "ROW_COUNT" AS n FROM ${LOADER_TABLES} WHERE "FEED" = ?`, [
    feed,
  ]);
  return Number(row?.n ?? 0);
}

/** Adds `delta` (negative after deletes) to a feed table's count; run it in the deleting transaction. */
export async function adjustRowCount(sql: Sql, feed: string, delta: number): Promise<void> {
  if (delta === 0) return;
  const statement = addRowCount(feed, delta);
  await sql.run(statement.sql, statement.params);
}

/** Counts the given feed tables again (one COUNT(*) each): after bulk deletes, or to repair. */
export async function recountRows(sql: Sql, feeds: readonly string[]): Promise<void> {
  for (const feed of feeds) {
    await sql.run(`DELETE FROM ${LOADER_TABLES} WHERE "FEED" = ?`, [feed]);
    await countRows(sql, feed);
  }
}

/** Counts one feed table into the bookkeeping (a row it does not have yet). */
async function countRows(sql: Sql, feed: string): Promise<void> {
  await sql.run(
    `INSERT INTO ${LOADER_TABLES} ("FEED", "ROW_COUNT") SELECT ?, COUNT(*) FROM ${
      quoteIdent(feed)
    }`,
    [feed],
  );
}

/** Gives every feed table without a count one (counted once: new tables, older warehouses). */
export async function ensureRowCounts(sql: Sql, feeds: readonly string[]): Promise<void> {
  const have = new Set(
    (await sql.all(`SELECT "FEED" FROM ${LOADER_TABLES}`)).map((row) => String(row.FEED)),
  );
  for (const feed of feeds) if (!have.has(feed)) await countRows(sql, feed);
}
