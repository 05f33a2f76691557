/**
 * Warehouse-only governance tables (DESIGN.md, "The warehouse"):
 *
 * - `ensureGovernanceSchema(sql)`: creates ACCOUNTS, PERMISSIONS and AUDIT_LOG if missing, and the
 *   triggers that make AUDIT_LOG append-only. Idempotent; call it before any governance function.
 * - `withGovernance(config, fn)`: open the configured warehouse, ensure the schema, run
 *   `fn(warehouse)`, close.
 *
 * API accounts get their own table: USERS holds pseudonymized customers, not API callers.
 * Times are ISO 8601 UTC text, like every other time in the warehouse. Types and triggers come
 * from the engine's dialect.
 */
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { openWarehouseFromConfig, type WarehouseConfig } from "../warehouse/open.ts";

export async function ensureGovernanceSchema(sql: Sql): Promise<void> {
  const { types: t, tableOptions } = sql.dialect;
  await sql.run(`
    CREATE TABLE IF NOT EXISTS ACCOUNTS (
      ACCOUNT_ID  ${t.autoId},
      NAME        ${t.key(64)} NOT NULL UNIQUE,
      TOKEN_HASH  ${t.key(64)} NOT NULL,
      CREATED_AT  ${t.key(40)} NOT NULL,
      DISABLED_AT ${t.key(40)}
    )${tableOptions}`);
  await sql.dialect.ensureIndex(sql, {
    name: "ACCOUNTS_TOKEN_HASH",
    table: "ACCOUNTS",
    columns: ["TOKEN_HASH"],
    unique: true,
  });
  await sql.run(`
    CREATE TABLE IF NOT EXISTS PERMISSIONS (
      ACCOUNT_ID   ${t.integer} NOT NULL,
      TOPIC_NAME   ${t.key(255)} NOT NULL,
      ACCESS_LEVEL ${t.key(8)} NOT NULL CHECK (ACCESS_LEVEL IN ('read', 'write', 'admin')),
      GRANTED_AT   ${t.key(40)} NOT NULL,
      GRANTED_BY   ${t.text} NOT NULL,
      PRIMARY KEY (ACCOUNT_ID, TOPIC_NAME),
      FOREIGN KEY (ACCOUNT_ID) REFERENCES ACCOUNTS (ACCOUNT_ID)
    )${tableOptions}`);
  await sql.run(`
    CREATE TABLE IF NOT EXISTS AUDIT_LOG (
      AUDIT_ID ${t.autoId},
      AT       ${t.key(40)} NOT NULL,
      ACTOR    ${t.text} NOT NULL,
      ACTION   ${t.key(64)} NOT NULL,
      TARGET   ${t.text},
      OUTCOME  ${t.key(8)} NOT NULL CHECK (OUTCOME IN ('ok', 'denied', 'error')),
      DETAIL   ${t.text}
    )${tableOptions}`);
  await sql.dialect.ensureIndex(sql, { name: "AUDIT_LOG_AT", table: "AUDIT_LOG", columns: ["AT"] });
  // The audit trail is evidence: rows are only ever inserted.
  await sql.dialect.ensureAppendOnly(sql, "AUDIT_LOG");
}

/**
 * Opens the warehouse, ensures the governance tables, runs `fn`, and closes it: what each
 * governance command does around its work.
 */
export async function withGovernance<T>(
  config: WarehouseConfig,
  fn: (warehouse: Warehouse) => T | Promise<T>,
): Promise<T> {
  const warehouse = await openWarehouseFromConfig(config);
  try {
    await ensureGovernanceSchema(warehouse);
    return await fn(warehouse);
  } finally {
    await warehouse.close();
  }
}
