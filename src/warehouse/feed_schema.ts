/**
 * The feed tables and the loader's bookkeeping tables written once for either engine, with the
 * types of the engine's dialect: the schema step of the MariaDB/MySQL warehouse (InnoDB enforces
 * the primary and foreign keys). The CREATE TABLE comes from schema.ts, as for SQLite: typed
 * columns named as the fields, lineage columns, `_INFERRED` on referenced feeds, an index per foreign
 * key. A declared column missing from an existing table is added with ALTER TABLE ADD COLUMN.
 */
import type { Feed } from "../config/feeds.ts";
import { quoteIdent } from "./db.ts";
import type { Sql } from "./engine.ts";
import { createTableSql, foreignKeyIndex, LOADER_FILES, LOADER_TABLES } from "./schema.ts";

export async function ensureFeedSchema(sql: Sql, feeds: readonly Feed[]): Promise<void> {
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
  for (const feed of feeds) {
    if (existing.has(feed.name)) {
      const have = new Set(
        (await dialect.columns(sql, feed.name)).map((c) => c.name.toUpperCase()),
      );
      for (const [column, type] of Object.entries(feed.columns)) {
        if (have.has(column.toUpperCase())) continue;
        await sql.run(
          `ALTER TABLE ${quoteIdent(feed.name)} ADD COLUMN ${quoteIdent(column)} ${
            dialect.columnType(type, false)
          }`,
        );
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
