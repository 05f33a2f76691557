/**
 * Warehouse-only governance tables (DESIGN.md, "The warehouse"):
 *
 * - `ensureGovernanceSchema(db)`: creates ACCOUNTS, PERMISSIONS and AUDIT_LOG if missing, and the
 *   triggers that make AUDIT_LOG append-only. Idempotent; call it before any governance function.
 * - `withGovernance(warehousePath, fn)`: open, ensure the schema, run `fn(db)`, close.
 *
 * API accounts get their own table: USERS holds pseudonymized customers, not API callers.
 * Times are ISO 8601 UTC text, like every other time in the warehouse.
 */
import { type Database, openWarehouse } from "../warehouse/db.ts";

export function ensureGovernanceSchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ACCOUNTS (
      ACCOUNT_ID  INTEGER PRIMARY KEY,
      NAME        TEXT UNIQUE NOT NULL,
      TOKEN_HASH  TEXT NOT NULL,
      CREATED_AT  TEXT NOT NULL,
      DISABLED_AT TEXT
    );
    CREATE UNIQUE INDEX IF NOT EXISTS ACCOUNTS_TOKEN_HASH ON ACCOUNTS (TOKEN_HASH);

    CREATE TABLE IF NOT EXISTS PERMISSIONS (
      ACCOUNT_ID   INTEGER NOT NULL REFERENCES ACCOUNTS (ACCOUNT_ID),
      TOPIC_NAME   TEXT NOT NULL,
      ACCESS_LEVEL TEXT NOT NULL CHECK (ACCESS_LEVEL IN ('read', 'write', 'admin')),
      GRANTED_AT   TEXT NOT NULL,
      GRANTED_BY   TEXT NOT NULL,
      PRIMARY KEY (ACCOUNT_ID, TOPIC_NAME)
    );

    CREATE TABLE IF NOT EXISTS AUDIT_LOG (
      AUDIT_ID INTEGER PRIMARY KEY,
      AT       TEXT NOT NULL,
      ACTOR    TEXT NOT NULL,
      ACTION   TEXT NOT NULL,
      TARGET   TEXT,
      OUTCOME  TEXT NOT NULL CHECK (OUTCOME IN ('ok', 'denied', 'error')),
      DETAIL   TEXT
    );
    CREATE INDEX IF NOT EXISTS AUDIT_LOG_AT ON AUDIT_LOG (AT);

    -- The audit trail is evidence: rows are only ever inserted.
    CREATE TRIGGER IF NOT EXISTS AUDIT_LOG_NO_UPDATE BEFORE UPDATE ON AUDIT_LOG
    BEGIN SELECT RAISE(ABORT, 'AUDIT_LOG is append-only: rows cannot be updated'); END;
    CREATE TRIGGER IF NOT EXISTS AUDIT_LOG_NO_DELETE BEFORE DELETE ON AUDIT_LOG
    BEGIN SELECT RAISE(ABORT, 'AUDIT_LOG is append-only: rows cannot be deleted'); END;
  `);
}

/**
 * Opens the warehouse, ensures the governance tables, runs `fn`, and closes it: what each
 * governance command does around its work.
 */
export async function withGovernance<T>(
  warehousePath: string,
  fn: (db: Database) => T | Promise<T>,
): Promise<T> {
  const db = openWarehouse(warehousePath);
  try {
    ensureGovernanceSchema(db);
    return await fn(db);
  } finally {
    db.close();
  }
}
