/**
 * The schema step of a load, once for both engines, with the types of the engine's dialect:
 * the loader's bookkeeping tables, every feed table (schema.ts's CREATE TABLE: typed columns
 * named as the fields, lineage columns, `_INFERRED` on referenced feeds, keys the engine
 * enforces), an index per foreign key (also restoring one a crashed bulk load had dropped),
 * declared columns missing from an existing table, and a row count for every feed table.
 * Safe to call often: it writes nothing when all is there.
 */
import type { Feed } from "../config/feeds.ts";
import { ensureRowCounts } from "./bookkeeping.ts";
import type { Sql } from "./engine.ts";
import { createTableSql, foreignKeyIndex, LOADER_FILES, LOADER_TABLES } from "./schema.ts";

/**
 * `failed`: when given, a feed whose table cannot be made or completed is handed to it and the
 * other feeds go on (a feed's failure stops no other); without it, the first failure throws.
 */
export async function ensureFeedSchema(
  sql: Sql,
  feeds: readonly Feed[],
  failed?: (feed: Feed, error: unknown) => void,
): Promise<void> {
  const { dialect } = sql;
  const t = dialect.types;
  // Every name quoted: LINES is a reserved word in MySQL.
  await sql.run(`CREATE TABLE IF NOT EXISTS ${LOADER_FILES} (
    "PATH" ${t.key(512)} NOT NULL PRIMARY KEY,
    "FEED" ${t.key(255)} NOT NULL,
    "SIZE" ${t.integer} NOT NULL,
    "MTIME" ${t.integer},
    "LINES" ${t.integer} NOT NULL,
    "BYTES_READ" ${t.integer} NOT NULL,
    "HEAD_HASH" ${t.key(128)} NOT NULL,
    "LOADED_AT" ${t.key(40)} NOT NULL
  )${dialect.tableOptions}`);
  await sql.run(`CREATE TABLE IF NOT EXISTS ${LOADER_TABLES} (
    "FEED" ${t.key(255)} NOT NULL PRIMARY KEY,
    "ROW_COUNT" ${t.integer} NOT NULL
  )${dialect.tableOptions}`);
  const existing = new Set(await dialect.tables(sql));
  const ready: string[] = [];
  for (const feed of feeds) {
    try {
      await ensureFeedTable(sql, feed, feeds, existing.has(feed.name));
      ready.push(feed.name);
    } catch (error) {
      if (!failed) throw error;
      failed(feed, error);
    }
  }
  await ensureRowCounts(sql, ready);
}

async function ensureFeedTable(
  sql: Sql,
  feed: Feed,
  feeds: readonly Feed[],
  exists: boolean,
): Promise<void> {
  const { dialect } = sql;
  {
    if (exists) {
      const have = new Set(
        (await dialect.columns(sql, feed.name)).map((c) => c.name.toUpperCase()),
      );
      for (const [column, type] of Object.entries(feed.columns)) {
        if (have.has(column.toUpperCase())) continue;
        for (const alter of dialect.addColumns(feed.name, [{ name: column, type }])) {
          await sql.run(alter);
        }
      }
    } else {
      await sql.run(createTableSql(feed, feeds, sql.dialect));
    }
    for (const fk of feed.foreignKeys) {
      await dialect.ensureIndex(sql, {
        name: foreignKeyIndex(feed.name, fk.column),
        table: feed.name,
        columns: [fk.column],
      });
    }
  }
}
