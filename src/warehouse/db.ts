/**
 * Opens the SQLite warehouse with node:sqlite (built into Deno, so compiled binaries need no
 * native download). WAL lets readers (the API) work while a load writes; foreign keys are
 * enforced; a busy database is waited for rather than failed at once.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

export type Database = DatabaseSync;

export interface OpenOptions {
  readOnly?: boolean;
  /** How long a statement waits for a lock held by another connection (ms). */
  busyTimeoutMs?: number;
}

export function openWarehouse(path: string, options: OpenOptions = {}): Database {
  if (!options.readOnly && path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10000}`);
  if (!options.readOnly) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
  }
  db.exec("PRAGMA foreign_keys = ON");
  return db;
}

/** Quotes an identifier that has already been checked against FEED_NAME or FIELD_NAME. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
