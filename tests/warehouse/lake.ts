/** Test fixtures for the warehouse: lake files written by hand, a load, and table reads. */
import type { Config } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { type Database, openWarehouse, quoteIdent } from "../../src/warehouse/db.ts";
import { type LoadOptions, type LoadReport, runLoad } from "../../src/warehouse/loader.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";

export type Row = Record<string, unknown>;

/** Writes (replaces) a partition file with one JSON line per record. */
export async function writePartition(
  config: Config,
  feed: string,
  date: string,
  records: (Row | string)[],
  options: { append?: boolean; newline?: boolean } = {},
): Promise<string> {
  const path = partitionPath(config.dataLakeDir, feed, date);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const lines = records.map((r) => typeof r === "string" ? r : JSON.stringify(r));
  const text = lines.join("\n") + (options.newline === false ? "" : "\n");
  await Deno.writeTextFile(path, text, { append: options.append ?? false });
  return path;
}

/** Runs one load on its own connection and closes it. */
export async function load(
  config: Config,
  options: Partial<Omit<LoadOptions, "config" | "warehouse">> = {},
): Promise<LoadReport> {
  const warehouse = openSqliteWarehouse(config.warehousePath);
  try {
    return await runLoad({ config, warehouse, log: silentLogger, ...options });
  } finally {
    await warehouse.close();
  }
}

/** Runs `fn` with a connection to the test warehouse. */
export function withDb<T>(config: Config, fn: (db: Database) => T): T {
  const db = openWarehouse(config.warehousePath);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** All rows of a table ordered by rowid, as plain objects. */
export function rows(config: Config, table: string, columns = "*"): Row[] {
  return withDb(
    config,
    (db) =>
      db.prepare(`SELECT ${columns} FROM ${quoteIdent(table)} ORDER BY rowid`).all().map((r) => ({
        ...r,
      })),
  );
}

export function count(config: Config, table: string): number {
  return withDb(
    config,
    (db) => Number(db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).get()!.n),
  );
}

export function tableOf(report: LoadReport, feed: string) {
  const table = report.tables.find((t) => t.feed === feed);
  if (!table) throw new Error(`no report for ${feed}`);
  return table;
}

let serial = 0;
/** A TRANSACTIONS_* record (pseudonymized fields only). */
export function txn(user: string, extra: Row = {}): Row {
  serial++;
  return {
    TRANSACTION_ID: `TXN-${serial.toString(16).padStart(8, "0")}`,
    USER_ID_HASHED: user,
    TRANSACTION_TYPE: "purchase",
    AMOUNT: 12.5,
    CURRENCY: "EUR",
    STATUS: "completed",
    CITY: "Lyon",
    COUNTRY: "France",
    TIMESTAMP: "2026-11-20T10:00:00Z",
    AMOUNT_USD: 13.4,
    TARGET_CURRENCY: "USD",
    ...extra,
  };
}

export function user(id: string, extra: Row = {}): Row {
  return {
    USER_ID_HASHED: id,
    USER_NAME_HASHED: `name-${id}`,
    EMAIL_HASHED: `email-${id}`,
    CITY: "Paris",
    COUNTRY: "France",
    FIRST_SEEN_AT: "2026-11-20T10:00:00Z",
    LAST_SEEN_AT: "2026-11-20T11:00:00Z",
    ...extra,
  };
}
