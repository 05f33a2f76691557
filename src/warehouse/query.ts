/**
 * The reads the API needs from the warehouse, and nothing else: paged rows of one feed table
 * with equality filters on its known columns, and row counts per table. Identifiers come only
 * from the feed registry and the table's own columns; values are always bound parameters.
 */
import type { Feed } from "../config/feeds.ts";
import { ValidationError } from "../core/errors.ts";
import { type Database, quoteIdent } from "./db.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface RowQuery {
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Column name → value that must be equal. Only columns of the table are allowed. */
  filters?: Record<string, string>;
}

export interface RowPage {
  rows: Record<string, unknown>[];
  /** Pass as `cursor` to read the next page; null on the last page. */
  nextCursor: string | null;
}

/** Columns of a table as SQLite knows them; empty when the table does not exist (yet). */
export function allColumnNames(db: Database, table: string): string[] {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return rows.map((r) => r.name);
}

/** One page of a feed's rows in insertion (rowid) order, filtered by equal column values. */
export function readRows(db: Database, feed: Feed, query: RowQuery = {}): RowPage {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const after = query.cursor === undefined ? 0 : decodeCursor(query.cursor);
  const columns = allColumnNames(db, feed.name);
  const filters = Object.entries(query.filters ?? {});
  for (const [column] of filters) {
    if (!columns.includes(column) && !(column in feed.columns)) {
      throw new ValidationError(
        `Cannot filter ${feed.name}: unknown column ${JSON.stringify(column)}`,
      );
    }
  }
  if (columns.length === 0) return { rows: [], nextCursor: null };

  const where = ["rowid > ?", ...filters.map(([column]) => `${quoteIdent(column)} = ?`)];
  const sql = `SELECT rowid AS "__rowid", * FROM ${quoteIdent(feed.name)} WHERE ${
    where.join(" AND ")
  } ORDER BY rowid LIMIT ?`;
  const found = db.prepare(sql).all(
    after,
    ...filters.map(([, value]) => value),
    limit + 1,
  ) as Record<string, unknown>[];
  const page = found.slice(0, limit);
  const rows = page.map(({ __rowid: _, ...row }) => row);
  const last = page.at(-1);
  return {
    rows,
    nextCursor: found.length > limit && last ? encodeCursor(Number(last.__rowid)) : null,
  };
}

/** Rows per feed table (0 for a table not created yet). */
export function rowCounts(db: Database, feeds: readonly Feed[]): Record<string, number> {
  const existing = new Set(
    (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as {
      name: string;
    }[]).map((r) => r.name),
  );
  const counts: Record<string, number> = {};
  for (const feed of feeds) {
    counts[feed.name] = existing.has(feed.name)
      ? Number(
        (db.prepare(`SELECT COUNT(*) AS n FROM ${quoteIdent(feed.name)}`).get() as { n: number }).n,
      )
      : 0;
  }
  return counts;
}

function encodeCursor(rowid: number): string {
  return btoa(JSON.stringify({ r: rowid })).replaceAll("+", "-").replaceAll("/", "_")
    .replaceAll("=", "");
}

function decodeCursor(cursor: string): number {
  try {
    const text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const r = (JSON.parse(text) as { r?: unknown }).r;
    if (typeof r === "number" && Number.isInteger(r) && r >= 0) return r;
  } catch {
    // falls through to the error below
  }
  throw new ValidationError("cursor is not valid; use the nextCursor of a previous page");
}
