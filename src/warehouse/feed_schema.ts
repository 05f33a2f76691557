/**
 * The feed tables and the loader's bookkeeping tables written once for either engine, with the
 * types of the engine's dialect: the schema step of the MariaDB/MySQL warehouse (InnoDB enforces
 * the primary and foreign keys). Same shape as the SQLite loader's schema.ts: typed columns
 * named as the fields, lineage columns, `_INFERRED` on referenced feeds, an index per foreign
 * key. A declared column missing from an existing table is added with ALTER TABLE ADD COLUMN.
 */
import type { ColumnType, Feed } from "../config/feeds.ts";
import { ConfigError } from "../core/errors.ts";
import { quoteIdent } from "./db.ts";
import type { Sql } from "./engine.ts";
import {
  foreignKeyIndex,
  INFERRED_COLUMN,
  isReferenced,
  LINEAGE_COLUMNS,
  LOADER_FILES,
  LOADER_TABLES,
} from "./schema.ts";

const LINEAGE_TYPES: Record<(typeof LINEAGE_COLUMNS)[number], ColumnType> = {
  _SOURCE_FILE: "TEXT",
  _SOURCE_LINE: "INTEGER",
  _LOADED_AT: "TEXT",
};

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
      await sql.run(createFeedTableSql(sql, feed, feeds));
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

function createFeedTableSql(sql: Sql, feed: Feed, feeds: readonly Feed[]): string {
  const { dialect } = sql;
  const keys = new Set([...feed.primaryKey, ...feed.foreignKeys.map((fk) => fk.column)]);
  const columns = new Map<string, ColumnType>();
  for (const key of keys) columns.set(key, feed.columns[key] ?? "TEXT");
  for (const [name, type] of Object.entries(feed.columns)) columns.set(name, type);

  const lines = [...columns].map(([name, type]) =>
    `${quoteIdent(name)} ${dialect.columnType(type, keys.has(name))}${
      feed.primaryKey.includes(name) ? " NOT NULL" : ""
    }`
  );
  lines.push(
    ...LINEAGE_COLUMNS.map((name) =>
      `${quoteIdent(name)} ${dialect.columnType(LINEAGE_TYPES[name], false)}`
    ),
  );
  if (isReferenced(feed, feeds)) {
    lines.push(`${quoteIdent(INFERRED_COLUMN)} ${dialect.types.integer} NOT NULL DEFAULT 0`);
  }
  lines.push(`PRIMARY KEY (${feed.primaryKey.map(quoteIdent).join(", ")})`);
  for (const fk of feed.foreignKeys) {
    const target = feeds.find((f) => f.name === fk.references);
    if (!target || target.primaryKey.length !== 1) {
      throw new ConfigError(
        `feed ${feed.name}: foreign key ${fk.column} must reference a feed with a one-column ` +
          `primary key (${fk.references})`,
      );
    }
    lines.push(
      `FOREIGN KEY (${quoteIdent(fk.column)}) REFERENCES ${quoteIdent(target.name)} (${
        quoteIdent(target.primaryKey[0])
      })`,
    );
  }
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(feed.name)} (\n  ${
    lines.join(",\n  ")
  }\n)${dialect.tableOptions}`;
}
