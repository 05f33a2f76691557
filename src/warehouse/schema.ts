/**
 * The warehouse schema derived from the feed declarations: one table per feed, typed columns,
 * primary and foreign keys, lineage columns, and `_INFERRED` on every feed that a foreign key
 * references (USERS). feed_schema.ts makes them (both engines); new fields found in the data
 * become columns in the load's own batches.
 */
import type { ColumnType, Feed } from "../config/feeds.ts";
import { ConfigError } from "../core/errors.ts";
import { quoteIdent } from "./db.ts";
import { type Dialect, sqliteDialect } from "./dialect.ts";
import { derivedName } from "./limits.ts";

/** Lineage columns every feed table carries: where a row came from and when it was loaded. */
export const LINEAGE_COLUMNS = ["_SOURCE_FILE", "_SOURCE_LINE", "_LOADED_AT"] as const;
const LINEAGE_TYPES: Record<(typeof LINEAGE_COLUMNS)[number], ColumnType> = {
  _SOURCE_FILE: "TEXT",
  _SOURCE_LINE: "INTEGER",
  _LOADED_AT: "TEXT",
};
/** Marks a placeholder row created for a foreign key that pointed nowhere yet. */
export const INFERRED_COLUMN = "_INFERRED";
/** Names no record field may take (case-insensitive, as SQLite compares column names). */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set([
  ...LINEAGE_COLUMNS,
  INFERRED_COLUMN,
]);

/** The loader's bookkeeping: how far each lake file was read, and what it looked like. */
export const LOADER_FILES = "_LOADER_FILES";
/** The loader's row count per feed table (read by /status instead of counting). */
export const LOADER_TABLES = "_LOADER_TABLES";

export interface TableColumn {
  name: string;
  type: ColumnType;
}

/** True when some feed declares a foreign key to `feed`: its table gets `_INFERRED`. */
export function isReferenced(feed: Feed, feeds: readonly Feed[]): boolean {
  return feeds.some((other) => other.foreignKeys.some((fk) => fk.references === feed.name));
}

/** Feed tables that reference `feed`, with the referencing column. */
export function referencingColumns(
  feed: Feed,
  feeds: readonly Feed[],
): { table: string; column: string }[] {
  return feeds.flatMap((other) =>
    other.foreignKeys.filter((fk) => fk.references === feed.name).map((fk) => ({
      table: other.name,
      column: fk.column,
    }))
  );
}

/** Name of the index on a foreign-key column (at most 64 characters). */
export function foreignKeyIndex(table: string, column: string): string {
  return derivedName(table, column);
}

/** The CREATE TABLE statement of a feed, in an engine's dialect (SQLite's by default). */
export function createTableSql(
  feed: Feed,
  feeds: readonly Feed[],
  dialect: Dialect = sqliteDialect,
): string {
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
    // Named by us: MySQL's own name (`<table>_ibfk_1`) can pass its 64-character limit.
    lines.push(
      `CONSTRAINT ${quoteIdent(derivedName(feed.name, fk.column, "FK"))} ` +
        `FOREIGN KEY (${quoteIdent(fk.column)}) REFERENCES ${quoteIdent(target.name)} (${
          quoteIdent(target.primaryKey[0])
        })`,
    );
  }
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(feed.name)} (\n  ${
    lines.join(",\n  ")
  }\n)${dialect.tableOptions}`;
}

/** The column type of a declared engine type (`text`, `varchar`, `bigint`, `double`, ...). */
export function columnTypeOf(declared: string): ColumnType {
  const type = declared.toLowerCase();
  if (/^(integer|int|bigint|smallint|tinyint|mediumint)$/.test(type)) return "INTEGER";
  if (/^(real|double|float|decimal)$/.test(type)) return "REAL";
  return "TEXT";
}
