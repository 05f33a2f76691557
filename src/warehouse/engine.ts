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

import type { Dialect } from "./dialect.ts";

export type SqlValue = string | number | bigint | null;
export type Row = Record<string, SqlValue>;

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

export type EngineName = "sqlite" | "mysql";

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
  close(): Promise<void>;
}
