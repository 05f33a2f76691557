/**
 * The reads the API needs from the warehouse, and nothing else: paged rows of one feed table
 * with equality filters on its known columns, and row counts per table. Identifiers come only
 * from the feed registry and the table's own columns; values are always bound parameters.
 *
 * Pages follow the primary key (keyset paging: the cursor holds the last key seen), the one
 * order both engines keep cheaply through the key's index, and stable while rows are loaded.
 */
import type { Feed } from "../config/feeds.ts";
import { ValidationError } from "../core/errors.ts";
import { readRowCounts } from "./bookkeeping.ts";
import { quoteIdent } from "./db.ts";
import type { Sql, SqlValue } from "./engine.ts";

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

/** Columns of a table as the engine knows them; empty when the table does not exist (yet). */
export async function allColumnNames(sql: Sql, table: string): Promise<string[]> {
  return (await sql.dialect.columns(sql, table)).map((c) => c.name);
}

/** One page of a feed's rows in primary-key order, filtered by equal column values. */
export async function readRows(sql: Sql, feed: Feed, query: RowQuery = {}): Promise<RowPage> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const key = feed.primaryKey;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, key.length);
  const columns = await allColumnNames(sql, feed.name);
  const filters = Object.entries(query.filters ?? {});
  for (const [column] of filters) {
    if (!columns.includes(column) && !(column in feed.columns)) {
      throw new ValidationError(
        `Cannot filter ${feed.name}: unknown column ${JSON.stringify(column)}`,
      );
    }
  }
  if (columns.length === 0) return { rows: [], nextCursor: null };

  const where = filters.map(([column]) => `${quoteIdent(column)} = ?`);
  const params: SqlValue[] = filters.map(([, value]) => value);
  if (after) {
    const { clause, values } = afterKey(key, after);
    where.push(clause);
    params.push(...values);
  }
  const sql_ = `SELECT * FROM ${quoteIdent(feed.name)}${
    where.length ? ` WHERE ${where.join(" AND ")}` : ""
  } ORDER BY ${key.map(quoteIdent).join(", ")} LIMIT ?`;
  const found = await sql.all(sql_, [...params, limit + 1]);
  const rows = found.slice(0, limit);
  const last = rows.at(-1);
  return {
    rows,
    nextCursor: found.length > limit && last ? encodeCursor(key.map((c) => last[c])) : null,
  };
}

/**
 * Rows per feed table (0 for a table not created yet), from the loader's bookkeeping: the one
 * row count /status and /metrics share, never a count of a table per request.
 */
export async function rowCounts(sql: Sql, feeds: readonly Feed[]): Promise<Record<string, number>> {
  const counts = await readRowCounts(sql);
  return Object.fromEntries(feeds.map((feed) => [feed.name, counts.get(feed.name) ?? 0]));
}

/** `(k1, k2) > (v1, v2)` spelled out, so every engine uses the key's index the same way. */
function afterKey(key: readonly string[], values: SqlValue[]) {
  const ors: string[] = [];
  const params: SqlValue[] = [];
  for (let i = 0; i < key.length; i++) {
    const equal = key.slice(0, i).map((c) => `${quoteIdent(c)} = ?`);
    ors.push(`(${[...equal, `${quoteIdent(key[i])} > ?`].join(" AND ")})`);
    params.push(...values.slice(0, i + 1));
  }
  return { clause: `(${ors.join(" OR ")})`, values: params };
}

function encodeCursor(key: unknown[]): string {
  const k = key.map((v) => typeof v === "bigint" ? Number(v) : v);
  const bytes = new TextEncoder().encode(JSON.stringify({ k }));
  return btoa(binaryString(bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Bytes as a "binary string" for btoa, in slices: a spread of a big key overflows the stack. */
function binaryString(bytes: Uint8Array): string {
  const SLICE = 8192;
  let out = "";
  for (let i = 0; i < bytes.length; i += SLICE) {
    out += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return out;
}

function decodeCursor(cursor: string, length: number): SqlValue[] {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    const k = (JSON.parse(text) as { k?: unknown }).k;
    if (
      Array.isArray(k) && k.length === length &&
      k.every((v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))
    ) {
      return k as SqlValue[];
    }
  } catch {
    // falls through to the error below
  }
  throw new ValidationError("cursor is not valid; use the nextCursor of a previous page");
}
