/** Shared fixtures of the governance tests: a warehouse with the feed and governance tables. */
import type { Config } from "../../src/config/config.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import { type Database, openWarehouse } from "../../src/warehouse/db.ts";
import { ensureFeedTables } from "../../src/warehouse/schema.ts";

/** Opens the config's warehouse with every feed table and the governance tables. */
export function openTestWarehouse(config: Config): Database {
  const db = openWarehouse(config.warehousePath);
  ensureFeedTables(db, config.feeds);
  ensureGovernanceSchema(db);
  return db;
}

/** The UTC day `daysAgo` days before `now`, YYYY-MM-DD. */
export function dayBefore(now: Date, daysAgo: number): string {
  return new Date(now.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

/** Writes one lake file (creating its folders) with one JSON object per line. */
export async function writeJsonl(path: string, records: unknown[]): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, records.map((r) => JSON.stringify(r) + "\n").join(""));
}

/** Inserts a USERS row and a TRANSACTIONS_SECURE row for it. */
export function insertTransaction(
  db: Database,
  txn: { id: string; user: string; at: string; table?: string },
): void {
  db.prepare("INSERT OR IGNORE INTO USERS (USER_ID_HASHED, CITY) VALUES (?, 'Lyon')").run(txn.user);
  db.prepare(
    `INSERT INTO ${txn.table ?? "TRANSACTIONS_SECURE"} ` +
      "(TRANSACTION_ID, USER_ID_HASHED, AMOUNT, CURRENCY, STATUS, TIMESTAMP) " +
      "VALUES (?, ?, 10.5, 'EUR', 'completed', ?)",
  ).run(txn.id, txn.user, txn.at);
}

export function count(db: Database, sql: string, ...params: (string | number)[]): number {
  return Number(db.prepare(sql).get(...params)?.n);
}

/** Runs `fn`, asserts it throws an instance of `type`, and returns the error for more checks. */
export function throwsOf<E extends Error>(fn: () => unknown, type: new (...a: never[]) => E): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected ${type.name}, got ${(error as Error)?.name}: ${error}`);
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}
