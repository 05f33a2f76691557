/**
 * What really differs between the two engines, chosen once here so that no caller spells an
 * `if (mysql)`: column types, table options, upserts, insert-or-ignore, introspection, indexes,
 * the append-only triggers, and a few WHERE fragments. Every other statement is written once in
 * the shared dialect (double-quoted identifiers, `?` parameters; see engine.ts).
 *
 * MySQL type choices: keys are VARCHAR(n) (a TEXT column cannot be a key without a length),
 * other text is TEXT, integers BIGINT, reals DOUBLE; times stay ISO 8601 UTC strings, as on
 * SQLite, so both engines return the same values. Tables are InnoDB, utf8mb4 with the binary
 * collation, so text compares byte for byte (case-sensitive) as it does in SQLite.
 */
import type { ColumnType } from "../config/feeds.ts";
import { quoteIdent } from "./db.ts";
import type { ColumnLimits } from "./limits.ts";
import { LOAD_DATA_FORMAT } from "./load_data.ts";
import { isSqliteRowError } from "./load/storage.ts";

export type EngineName = "sqlite" | "mysql";

/**
 * What the introspection below needs of a connection: engine.ts's Sql has this shape (declared
 * here so that the dialect does not depend on the engines that use it).
 */
export interface Sql {
  all(sql: string, params?: readonly (string | number | bigint | null)[]): Promise<
    Record<string, unknown>[]
  >;
  get(sql: string, params?: readonly (string | number | bigint | null)[]): Promise<
    Record<string, unknown> | undefined
  >;
  run(sql: string, params?: readonly (string | number | bigint | null)[]): Promise<unknown>;
}

export interface ColumnInfo {
  name: string;
  /** Declared type, lower case (`text`, `integer`, `varchar`, `bigint`, ...). */
  type: string;
}

export interface ColumnTypes {
  /** Text that is (part of) a key or an index, at most `length` characters. */
  key(length: number): string;
  /** Text that is never a key. */
  text: string;
  integer: string;
  real: string;
  /** An integer primary key the engine numbers (never reused on either engine). */
  autoId: string;
}

export interface Dialect {
  readonly engine: EngineName;
  readonly types: ColumnTypes;
  /** How many columns a table may have, and how wide a row (checked before any DDL). */
  readonly columnLimits: ColumnLimits;
  /** Whether text holding NUL characters comes back exactly (node:sqlite cuts it at the NUL). */
  readonly keepsNul: boolean;
  /**
   * Rows one INSERT of a load carries, at most. 1: each row is inserted, then updated when its
   * key was there (no key read first); more: multi-row upserts after reading the chunk's keys.
   */
  readonly rowsPerStatement: number;
  /**
   * How long one batch of a load should take to apply (its size adapts to it): short on SQLite,
   * whose statements block the event loop; longer on a server, where a batch costs round trips
   * and a durable commit but the process goes on meanwhile.
   */
  readonly applyTargetMs: number;
  /**
   * Whether the load reads the lake on while a batch is applied: a server works meanwhile; on
   * SQLite the apply holds the thread, so reading ahead would only keep one more batch alive.
   */
  readonly readsAhead: boolean;
  /** Parameters one statement may bind, at most. */
  readonly maxParams: number;
  /** Whether DDL joins the transaction (SQLite) or commits at once (MySQL). */
  readonly transactionalDdl: boolean;
  /** Whether a bulk load may drop foreign-key indexes and build them once at its end. */
  readonly bulkIndexes: boolean;
  /** Statements around a load on its own connection (a bigger page cache on SQLite). */
  readonly loadSession: { start: readonly string[]; end: readonly string[] };
  /**
   * A checkpoint that never waits for nor blocks the writer, run from another connection while
   * a large load writes (SQLite's WAL; absent on a server, which checkpoints by itself).
   */
  readonly walCheckpoint?: string;
  /** ALTER TABLE statements adding `columns` (typed by columnType) to `table`. */
  addColumns(table: string, columns: readonly { name: string; type: ColumnType }[]): string[];
  /** Whether `error` concerns one row's content (a constraint, a type): that row's rejection. */
  isRowError(error: unknown): boolean;
  /** The column type of a feed field declared `type`; `key` when it is (part of) a key. */
  columnType(type: ColumnType, key: boolean): string;
  /** Appended after `CREATE TABLE name (...)`. */
  readonly tableOptions: string;
  /** Appended to a SELECT inside a transaction to lock the rows it reads (empty on SQLite). */
  readonly forUpdate: string;
  /** Expression of a row's identity for reports (`rowid` on SQLite; 0 where there is none). */
  readonly rowId: string;
  /**
   * `INSERT INTO table (columns) VALUES (?, ...)[, (?, ...)]` for `rows` rows that updates
   * `update` (default: every non-key column) when a row with the same `key` exists. The
   * changes of one row are 1 when inserted, 2 (MySQL) or 1 (SQLite) when updated.
   */
  upsert(
    table: string,
    columns: readonly string[],
    key: readonly string[],
    options?: { update?: readonly string[]; rows?: number },
  ): string;
  /**
   * `LOAD DATA LOCAL INFILE` replacing rows of `table` by key from a load_data.ts file of
   * `columns`: the server's bulk path (changes: 1 per inserted row, 2 per replaced one).
   * Absent where the engine has none (SQLite: a statement is a function call already).
   */
  readonly loadData?: (table: string, columns: readonly string[]) => string;
  /** Inserts the rows whose `key` is not there yet; changes counts only inserted rows. */
  insertOrIgnore(
    table: string,
    columns: readonly string[],
    key: readonly string[],
    rows?: number,
  ): string;
  /**
   * WHERE fragment: ISO 8601 time `column` (any offset) is before the UTC instant bound as `?`
   * (`YYYY-MM-DDTHH:MM:SS…Z`); a value that is no valid time never matches.
   */
  timeBefore(column: string): string;
  /**
   * WHERE fragment picking text values of `column` that may hold personal data (an @, a dotted
   * number, U and five digits), or null when the column cannot hold text on this engine.
   */
  piiCandidates(column: ColumnInfo): string | null;
  /** Names of the warehouse's tables, sorted. */
  tables(sql: Sql): Promise<string[]>;
  /** Columns of `table` in order; empty when it does not exist. */
  columns(sql: Sql, table: string): Promise<ColumnInfo[]>;
  ensureIndex(
    sql: Sql,
    index: { name: string; table: string; columns: readonly string[]; unique?: boolean },
  ): Promise<void>;
  /** Triggers that refuse every UPDATE and DELETE on `table` (with `message` as the reason). */
  ensureAppendOnly(sql: Sql, table: string): Promise<void>;
  /**
   * Whether `error` is a lost race with a concurrent transaction (a duplicate key it inserted
   * first, a deadlock): worth retrying after reading again.
   */
  isConflict(error: unknown): boolean;
}

function placeholders(columns: number, rows: number): string {
  const one = `(${Array(columns).fill("?").join(", ")})`;
  return Array(rows).fill(one).join(", ");
}

function insertHead(table: string, columns: readonly string[], rows: number): string {
  return `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) VALUES ${
    placeholders(columns.length, rows)
  }`;
}

function updated(columns: readonly string[], key: readonly string[], update?: readonly string[]) {
  return update ?? columns.filter((c) => !key.includes(c));
}

const appendOnlyMessage = (table: string, verb: string) =>
  `${table} is append-only: rows cannot be ${verb}`;

export const sqliteDialect: Dialect = {
  engine: "sqlite",
  types: {
    key: () => "TEXT",
    text: "TEXT",
    integer: "INTEGER",
    real: "REAL",
    autoId: "INTEGER PRIMARY KEY AUTOINCREMENT",
  },
  columnType: (type) => type,
  // SQLITE_MAX_COLUMN as compiled into node:sqlite.
  columnLimits: { columns: 2000 },
  keepsNul: false,
  // A statement is a function call here, not a round trip: one row each (see load/apply.ts).
  rowsPerStatement: 1,
  applyTargetMs: 15,
  readsAhead: false,
  maxParams: 32766,
  transactionalDdl: true,
  bulkIndexes: true,
  // While loading: an 8 MiB page cache (negative = KiB; it also bounds the sort that rebuilds
  // a bulk load's indexes: 16 MiB took a load with its reader thread to 200 MB of RSS), and the
  // writer's own checkpoint only per 32 MiB of WAL, not per 4 MiB (each one copies the WAL back
  // into the file on the writer's thread; a large load's reader thread checkpoints meanwhile,
  // see walCheckpoint). SQLite's defaults after.
  loadSession: {
    start: ["PRAGMA cache_size = -8192", "PRAGMA wal_autocheckpoint = 8192"],
    end: ["PRAGMA cache_size = -2000", "PRAGMA wal_autocheckpoint = 1000"],
  },
  walCheckpoint: "PRAGMA wal_checkpoint(PASSIVE)",
  addColumns: (table, columns) =>
    columns.map((c) =>
      `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(c.name)} ${c.type}`
    ),
  isRowError: isSqliteRowError,
  tableOptions: "",
  forUpdate: "",
  rowId: "rowid",
  upsert(table, columns, key, options = {}) {
    const set = updated(columns, key, options.update);
    if (set.length === 0) return this.insertOrIgnore(table, columns, key, options.rows);
    return `${insertHead(table, columns, options.rows ?? 1)} ON CONFLICT (${
      key.map(quoteIdent).join(", ")
    }) DO UPDATE SET ${set.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(", ")}`;
  },
  insertOrIgnore(table, columns, key, rows = 1) {
    return `${insertHead(table, columns, rows)} ON CONFLICT (${
      key.map(quoteIdent).join(", ")
    }) DO NOTHING`;
  },
  timeBefore: (column) => `julianday(${quoteIdent(column)}) < julianday(?)`,
  piiCandidates(column) {
    const c = quoteIdent(column.name);
    // Any column may hold text in SQLite, whatever its declared type.
    return `typeof(${c}) = 'text' AND (${c} LIKE '%@%' OR ${c} GLOB '*[0-9].[0-9]*' OR ` +
      `${c} GLOB '*U[0-9][0-9][0-9][0-9][0-9]*')`;
  },
  async tables(sql) {
    const rows = await sql.all(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
        "ORDER BY name",
    );
    return rows.map((r) => String(r.name));
  },
  async columns(sql, table) {
    const rows = await sql.all("SELECT name, type FROM pragma_table_info(?)", [table]);
    return rows.map((r) => ({ name: String(r.name), type: String(r.type).toLowerCase() }));
  },
  async ensureIndex(sql, { name, table, columns, unique }) {
    await sql.run(
      `CREATE ${unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${
        quoteIdent(table)
      } (${columns.map(quoteIdent).join(", ")})`,
    );
  },
  // BEGIN IMMEDIATE serializes writers: a transaction never races another.
  isConflict: () => false,
  async ensureAppendOnly(sql, table) {
    for (const [event, verb] of [["UPDATE", "updated"], ["DELETE", "deleted"]]) {
      await sql.run(
        `CREATE TRIGGER IF NOT EXISTS ${quoteIdent(`${table}_NO_${event}`)} BEFORE ${event} ON ${
          quoteIdent(table)
        } BEGIN SELECT RAISE(ABORT, '${appendOnlyMessage(table, verb)}'); END`,
      );
    }
  },
};

/** Text keys of feed tables: two of them (utf8mb4, 4 bytes each) fit InnoDB's 3072-byte keys. */
const KEY_LENGTH = 255;
/** ISO 8601 with seconds and a Z or ±hh:mm offset; anything else is no time (NULL). */
const ISO_TIME =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";

/**
 * The UTC DATETIME of an ISO 8601 text (fractions cut, which keeps `<` against a whole-second
 * bound exact), or NULL. CASE evaluates STR_TO_DATE only on text that matches, so strict mode
 * never sees a bad date inside a DELETE.
 */
function isoInstant(expr: string): string {
  return `(CASE WHEN ${expr} REGEXP '${ISO_TIME}' THEN CONVERT_TZ(STR_TO_DATE(LEFT(${expr}, 19), ` +
    `'%Y-%m-%dT%H:%i:%s'), IF(RIGHT(${expr}, 1) = 'Z', '+00:00', RIGHT(${expr}, 6)), '+00:00') END)`;
}

/** Server errors about one row's content (strict mode, keys): that row's rejection. */
const MYSQL_ROW_ERRORS = new Set([
  "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD",
  "ER_TRUNCATED_WRONG_VALUE",
  "WARN_DATA_TRUNCATED",
  "ER_WARN_DATA_OUT_OF_RANGE",
  "ER_DATA_TOO_LONG",
  "ER_BAD_NULL_ERROR",
  "ER_NO_REFERENCED_ROW_2",
  "ER_CHECK_CONSTRAINT_VIOLATED",
  "ER_CONSTRAINT_FAILED",
]);

const MYSQL_TEXT_TYPES = new Set(["char", "varchar", "tinytext", "text", "mediumtext", "longtext"]);
/** Errors of a concurrent `CREATE ... ` that another process won: the object is there. */
const ALREADY_EXISTS = new Set(["ER_DUP_KEYNAME", "ER_TRG_ALREADY_EXISTS"]);

function unlessExists(error: unknown): void {
  if (!ALREADY_EXISTS.has(String((error as { code?: unknown })?.code))) throw error;
}

export const mysqlDialect: Dialect = {
  engine: "mysql",
  types: {
    key: (length) => `VARCHAR(${length})`,
    text: "TEXT",
    integer: "BIGINT",
    real: "DOUBLE",
    autoId: "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
  },
  columnType(type, key) {
    if (type === "INTEGER") return "BIGINT";
    if (type === "REAL") return "DOUBLE";
    return key ? `VARCHAR(${KEY_LENGTH})` : "TEXT";
  },
  // InnoDB: 1,017 columns, and a row definition of at most 8,126 bytes in 16 KiB pages (MariaDB
  // 10.11 counts about 21 bytes per TEXT and 8 per BIGINT or DOUBLE; we count a little more).
  columnLimits: {
    columns: 1017,
    rowBytes: { limit: 8126, base: 40, key: 24, text: 22, number: 9 },
  },
  keepsNul: true,
  rowsPerStatement: 500,
  applyTargetMs: 400,
  readsAhead: true,
  maxParams: 65535,
  transactionalDdl: false,
  bulkIndexes: false,
  loadSession: { start: [], end: [] },
  // One statement for all of them: MySQL commits DDL at once, so it is all or nothing.
  addColumns: (table, columns) => [
    `ALTER TABLE ${quoteIdent(table)} ${
      columns.map((c) =>
        `ADD COLUMN ${quoteIdent(c.name)} ${mysqlDialect.columnType(c.type, false)}`
      )
        .join(", ")
    }`,
  ],
  isRowError: (error) => MYSQL_ROW_ERRORS.has(String((error as { code?: unknown })?.code)),
  tableOptions: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
  forUpdate: " FOR UPDATE",
  rowId: "0",
  upsert(table, columns, key, options = {}) {
    const set = updated(columns, key, options.update);
    if (set.length === 0) return this.insertOrIgnore(table, columns, key, options.rows);
    return `${insertHead(table, columns, options.rows ?? 1)} ON DUPLICATE KEY UPDATE ${
      set.map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`).join(", ")
    }`;
  },
  loadData: (table, columns) =>
    `LOAD DATA LOCAL INFILE 'rows.tsv' REPLACE INTO TABLE ${quoteIdent(table)} ` +
    `${LOAD_DATA_FORMAT} (${columns.map(quoteIdent).join(", ")})`,
  insertOrIgnore(table, columns, key, rows = 1) {
    // Not INSERT IGNORE: that would also turn foreign-key and type errors into warnings.
    const k = quoteIdent(key[0]);
    return `${insertHead(table, columns, rows)} ON DUPLICATE KEY UPDATE ${k} = ${k}`;
  },
  // The bound value is our own UTC instant (…Z), so only the column needs the full parse.
  timeBefore: (column) =>
    `${isoInstant(quoteIdent(column))} < STR_TO_DATE(LEFT(?, 19), '%Y-%m-%dT%H:%i:%s')`,
  piiCandidates(column) {
    if (!MYSQL_TEXT_TYPES.has(column.type)) return null;
    return `${quoteIdent(column.name)} REGEXP '@|[0-9][.][0-9]|U[0-9]{5}'`;
  },
  async tables(sql) {
    const rows = await sql.all(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() " +
        "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    );
    return rows.map((r) => String(r.name));
  },
  async columns(sql, table) {
    const rows = await sql.all(
      "SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS " +
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
      [table],
    );
    return rows.map((r) => ({ name: String(r.name), type: String(r.type).toLowerCase() }));
  },
  async ensureIndex(sql, { name, table, columns, unique }) {
    const found = await sql.get(
      "SELECT 1 AS found FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() " +
        "AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1",
      [table, name],
    );
    if (found) return;
    await sql.run(
      `CREATE ${unique ? "UNIQUE " : ""}INDEX ${quoteIdent(name)} ON ${quoteIdent(table)} (${
        columns.map(quoteIdent).join(", ")
      })`,
    ).catch(unlessExists);
  },
  isConflict: (error) =>
    ["ER_DUP_ENTRY", "ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"].includes(
      String((error as { code?: unknown })?.code),
    ),
  async ensureAppendOnly(sql, table) {
    for (const [event, verb] of [["UPDATE", "updated"], ["DELETE", "deleted"]]) {
      const name = `${table}_NO_${event}`;
      const found = await sql.get(
        "SELECT 1 AS found FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() " +
          "AND TRIGGER_NAME = ?",
        [name],
      );
      if (found) continue;
      await sql.run(
        `CREATE TRIGGER ${quoteIdent(name)} BEFORE ${event} ON ${quoteIdent(table)} ` +
          `FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${
            appendOnlyMessage(table, verb)
          }'`,
      ).catch(unlessExists);
    }
  },
};
