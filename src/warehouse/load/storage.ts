/**
 * Telling storage failures from bad rows. A row the database refuses for its content (a
 * constraint, a type) is that row's rejection; anything else SQLite or the file system reports
 * (disk full, I/O error, read-only, busy, corrupt) fails the whole batch, which is rolled back.
 */
import { DomainError, StorageError } from "../../core/errors.ts";

// SQLite primary result codes (errcode & 0xff).
const SQLITE_TOOBIG = 18;
const SQLITE_CONSTRAINT = 19;
const SQLITE_MISMATCH = 20;
const SQLITE_RANGE = 25;
const ROW_ERRORS = new Set([SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE]);

const CAUSES: Record<number, string> = {
  5: "the database is locked by another process",
  7: "out of memory",
  8: "the database is read-only",
  10: "an I/O error",
  11: "the database file is corrupt",
  13: "the disk is full",
  14: "the database file cannot be opened",
  26: "the file is not a database",
};
const OS_CAUSES: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exceeded",
  EIO: "an I/O error",
  EROFS: "the file system is read-only",
};

/** True for a SQLite error that concerns one row only (the batch goes on without it). */
export function isSqliteRowError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && ROW_ERRORS.has(code & 0xff);
}

/**
 * `error` as a StorageError (`<doing>: the disk is full (database or disk is full)`) when it is
 * one; DomainErrors and programming errors are returned as they are.
 */
export function asStorageError(error: unknown, doing: string): unknown {
  if (error instanceof DomainError) return error;
  const message = (error as Error)?.message ?? String(error);
  const code = sqliteCode(error);
  if (code !== undefined) {
    const cause = CAUSES[code & 0xff] ?? "a database error";
    return new StorageError(`${doing}: ${cause} (${message})`, { cause: error });
  }
  const os = (error as { code?: unknown })?.code;
  if (typeof os === "string" && os in OS_CAUSES) {
    return new StorageError(`${doing}: ${OS_CAUSES[os]} (${message})`, { cause: error });
  }
  return error;
}

/**
 * `error` as a StorageError when SQLite or the disk says the database itself cannot be used
 * (locked, not a database, corrupt, full, read-only, I/O): anything else is returned as it is,
 * so a constraint stays the row's own error.
 */
export function asFileError(error: unknown, doing: string): unknown {
  const code = sqliteCode(error);
  if (code !== undefined && !((code & 0xff) in CAUSES)) return error;
  return asStorageError(error, doing);
}

/** SQLite's own texts of the codes above, for errors that come without `errcode` (COMMIT's). */
const MESSAGES: [RegExp, number][] = [
  [/^database or disk is full/, 13],
  [/^disk I\/O error/, 10],
  [/^attempt to write a readonly database/, 8],
  [/^database is locked/, 5],
  [/^database disk image is malformed/, 11],
  [/^unable to open database file/, 14],
  [/^file is not a database/, 26],
  [/^out of memory/, 7],
];

function sqliteCode(error: unknown): number | undefined {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code !== "ERR_SQLITE_ERROR") return undefined;
  if (typeof e.errcode === "number") return e.errcode;
  const message = String(e.message);
  return MESSAGES.find(([pattern]) => pattern.test(message))?.[1] ?? 1;
}
