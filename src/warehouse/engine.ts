/**
 * The warehouse behind one small interface, so that the loader, governance, the scheduler, the
 * service and the routes run unchanged on either engine: SQLite (node:sqlite, the embedded
 * default, sqlite.ts) or MariaDB/MySQL (npm:mysql2, the server option).
 *
 * SQL passed here is written once, in the dialect both engines share: identifiers in double
 * quotes (MySQL sessions run with ANSI_QUOTES), `?` parameters, every value bound. What really
 * differs between engines (column types, upserts, insert-or-ignore, introspection) is not
 * spelled inline by callers but comes from the engine's dialect module.
 */

import type { Dialect, EngineName } from "./dialect.ts";

export type { EngineName };
export type SqlValue = string | number | bigint | null;
export type Row = Record<string, SqlValue>;

/** One statement of a list an engine runs in one transaction (see Warehouse.runStatements). */
export interface Statement {
  sql: string;
  params?: readonly SqlValue[];
  /** Hand back the rows it selects (else only the count of rows it changed). */
  rows?: boolean;
  /**
   * A row the database refuses for its content (dialect.isRowError) comes back as `error`
   * instead of failing the transaction; only this statement is undone.
   */
  rowLevel?: boolean;
  /** The text the statement's `LOAD DATA LOCAL INFILE` reads (load_data.ts; MySQL only). */
  infile?: string;
}

export interface StatementResult {
  changes: number;
  rows: Row[];
  error?: unknown;
  /** Warnings the server raised for the statement (MySQL; a value it had to bend). */
  warnings?: number;
}

/**
 * Statements made one at a time, each seeing the result of the one before: the whole apply
 * step of a load is written once, as such a list, and each engine only runs it.
 */
export type StatementList<T> = Generator<Statement, T, StatementResult>;

export interface RunResult {
  /**
   * Rows inserted, updated or deleted by the statement. An UPDATE counts rows it changed; an
   * upsert counts an updated row twice on MySQL (see Dialect.upsert).
   */
  changes: number;
  /** The id the engine gave the last row inserted (autoId columns), when there is one. */
  lastInsertId?: number;
}

/** Statements on one connection (the warehouse's, or a transaction's). */
export interface Sql {
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** The engine's dialect, for the few statements the engines spell differently. */
  readonly dialect: Dialect;
}

export interface Warehouse extends Sql {
  readonly engine: EngineName;
  /** Where it is, safe to print and to show in /status: never a password. */
  readonly label: string;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * On SQLite, `fn` must await nothing but `tx` calls (no file, network or timer awaits): a
   * SQLite write transaction held across real I/O blocks every other connection of the process.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Runs the statements `make()` yields in one transaction and returns what the list returns:
   * committed at the end, rolled back when a statement or the list throws. SQLite runs it
   * synchronously from BEGIN to COMMIT (no other work meanwhile, no lock held across an await);
   * MySQL may call `make` again after a deadlock, so the list keeps its effects to itself.
   *
   * `hold`: the engine may leave the transaction open after the list, so that the next lists
   * share one commit (SQLite: many small transactions rewrite the same index pages over and
   * over). What the list did is then not yet durable: it commits with a later list run without
   * `hold`, as soon as any other statement on the warehouse wants a turn, or after about a second. A
   * held commit that fails is thrown by the next runStatements (or close) of this connection;
   * a list that fails rolls back the held lists before it too.
   * MySQL ignores it (a server transaction costs no page rewrites).
   */
  runStatements<T>(
    make: () => StatementList<T>,
    options?: { hold?: boolean },
  ): Promise<T>;
  close(): Promise<void>;
}
