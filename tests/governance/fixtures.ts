/** Shared fixtures of the governance tests: a warehouse with the feed and governance tables. */
import type { Config } from "../../src/config/config.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import type { Sql, Warehouse } from "../../src/warehouse/engine.ts";
import { ensureFeedSchema } from "../../src/warehouse/feed_schema.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";

/** Opens the config's warehouse (either engine) with every feed table and the governance tables. */
export async function openTestWarehouse(config: Config): Promise<Warehouse> {
  const warehouse = await openWarehouseFromConfig(config);
  await ensureFeedSchema(warehouse, config.feeds);
  await ensureGovernanceSchema(warehouse);
  return warehouse;
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
export async function insertTransaction(
  sql: Sql,
  txn: { id: string; user: string; at: string; table?: string },
): Promise<void> {
  await sql.run(
    sql.dialect.insertOrIgnore("USERS", ["USER_ID_HASHED", "CITY"], ["USER_ID_HASHED"]),
    [txn.user, "Lyon"],
  );
  await sql.run(
    `INSERT INTO ${txn.table ?? "TRANSACTIONS_SECURE"} ` +
      "(TRANSACTION_ID, USER_ID_HASHED, AMOUNT, CURRENCY, STATUS, TIMESTAMP) " +
      "VALUES (?, ?, 10.5, 'EUR', 'completed', ?)",
    [txn.id, txn.user, txn.at],
  );
}

export async function count(sql: Sql, query: string, ...params: (string | number)[]) {
  return Number((await sql.get(query, params))?.n);
}

/** Awaits `fn`, asserts it rejects with an instance of `type`, and returns the error. */
export async function rejectsOf<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...a: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected ${type.name}, got ${(error as Error)?.name}: ${error}`);
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}
