/**
 * The warehouse schema derived from the feed declarations: one table per feed, typed columns,
 * primary and foreign keys, lineage columns, and `_INFERRED` on every feed that a foreign key
 * references (USERS). New fields found in the data become columns here too.
 */
import type { ColumnType, Feed } from "../config/feeds.ts";
import { ConfigError } from "../core/errors.ts";
import { type Database, quoteIdent } from "./db.ts";
import { type Dialect, sqliteDialect } from "./dialect.ts";

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

/**
 * Creates the bookkeeping table and every feed table that does not exist yet, and adds declared
 * columns missing from existing tables. Safe to call often: it writes nothing when all is there.
 */
export function ensureFeedTables(db: Database, feeds: readonly Feed[]): void {
  const existing = new Set(
    db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").all().map((r) =>
      String(r.name)
    ),
  );
  if (!existing.has(LOADER_FILES)) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${LOADER_FILES} (
      PATH TEXT PRIMARY KEY NOT NULL,
      FEED TEXT NOT NULL,
      SIZE INTEGER NOT NULL,
      MTIME INTEGER,
      LINES INTEGER NOT NULL,
      BYTES_READ INTEGER NOT NULL,
      HEAD_HASH TEXT NOT NULL,
      LOADED_AT TEXT NOT NULL
    )`);
  }
  if (!existing.has(LOADER_TABLES)) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${LOADER_TABLES} (
      FEED TEXT PRIMARY KEY NOT NULL,
      ROW_COUNT INTEGER NOT NULL
    )`);
  }
  for (const feed of feeds) {
    if (existing.has(feed.name)) {
      const have = new Set(tableColumns(db, feed.name).map((c) => c.name.toUpperCase()));
      for (const [column, type] of Object.entries(feed.columns)) {
        if (!have.has(column.toUpperCase())) addColumn(db, feed.name, column, type);
      }
    } else {
      db.exec(createTableSql(feed, feeds));
    }
    // Also restores an index a crashed bulk load had dropped (see the loader).
    for (const fk of feed.foreignKeys) {
      if (!existing.has(foreignKeyIndex(feed.name, fk.column))) {
        createForeignKeyIndex(db, feed.name, fk.column);
      }
    }
  }
}

/** Name of the index on a foreign-key column. */
export function foreignKeyIndex(table: string, column: string): string {
  return `${table}__${column}`;
}

/** SQLite scans the child table on every parent delete unless the child key is indexed. */
export function createForeignKeyIndex(db: Database, table: string, column: string): void {
  db.exec(
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(foreignKeyIndex(table, column))} ON ${
      quoteIdent(table)
    } (${quoteIdent(column)})`,
  );
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

/** Data columns of a table (lineage and `_INFERRED` left out), in table order. */
export function tableColumns(db: Database, table: string): TableColumn[] {
  return db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all()
    .map((row) => ({ name: String(row.name), type: String(row.type).toUpperCase() as ColumnType }))
    .filter((column) => !RESERVED_COLUMNS.has(column.name.toUpperCase()));
}

/** True when the table has the `_INFERRED` column. */
export function hasInferredColumn(db: Database, table: string): boolean {
  return db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all()
    .some((row) => row.name === INFERRED_COLUMN);
}

export function addColumn(db: Database, table: string, column: string, type: ColumnType): void {
  db.exec(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(column)} ${type}`);
}

/** Column type for a field first seen with `value` (non-null); undefined when it cannot be one. */
export function inferColumnType(value: unknown): ColumnType | undefined {
  if (typeof value === "boolean") return "INTEGER";
  if (typeof value === "number") return Number.isInteger(value) ? "INTEGER" : "REAL";
  if (typeof value === "string") return "TEXT";
  return undefined;
}
