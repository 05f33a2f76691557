/**
 * Runs a test once per warehouse engine: SQLite (always) and MariaDB/MySQL (when
 * WAREHOUSE_TEST_URL names a server, as `.ci/run` and scripts/test.sh set it from
 * `scripts/mariadb.sh url`). Each MySQL run gets a database of its own, created before the test
 * and dropped after it, named `<database of the URL>_t_<unique>` (the user scripts/mariadb.sh
 * creates may make and drop exactly those).
 *
 * - `engineTest(name, fn)`: registers `[sqlite] name` and `[mysql] name`; `fn(t, engine)` gets
 *   the engine's environment (`engine.env`, to pass to testConfig or a child process).
 * - `openEngineWarehouse(config)`: opens the config's warehouse, whichever engine it names.
 */
import { type Config, parseWarehouseUrl } from "../../src/config/config.ts";
import type { EngineName, Warehouse } from "../../src/warehouse/engine.ts";
import { MysqlWarehouse } from "../../src/warehouse/mysql.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { uniqueName } from "./env.ts";

export const TEST_URL = Deno.env.get("WAREHOUSE_TEST_URL")?.trim() || undefined;
const SKIP_REASON = "no MariaDB: set WAREHOUSE_TEST_URL (scripts/test.sh does it), see " +
  "scripts/mariadb.sh";

export const ENGINES: readonly EngineName[] = ["sqlite", "mysql"];

export interface TestEngine {
  name: EngineName;
  /** Environment selecting this engine: WAREHOUSE_URL of a fresh database, or nothing. */
  env: Record<string, string>;
}

let warned = false;

export interface EngineTestOptions {
  /** Engines to run on (default both). */
  engines?: readonly EngineName[];
  sanitizeOps?: boolean;
  sanitizeResources?: boolean;
}

export function engineTest(
  name: string,
  fn: (t: Deno.TestContext, engine: TestEngine) => Promise<void>,
  options: EngineTestOptions = {},
): void {
  for (const engine of options.engines ?? ENGINES) {
    const skip = engine === "mysql" && !TEST_URL;
    if (skip && !warned) {
      warned = true;
      console.warn(`warehouse tests: MySQL variants skipped (${SKIP_REASON})`);
    }
    Deno.test({
      name: `[${engine}] ${name}${skip ? ` (skipped: ${SKIP_REASON})` : ""}`,
      ignore: skip,
      sanitizeOps: options.sanitizeOps,
      sanitizeResources: options.sanitizeResources,
      async fn(t) {
        if (engine === "sqlite") return await fn(t, { name: engine, env: {} });
        const database = await createTestDatabase();
        try {
          await fn(t, { name: engine, env: { WAREHOUSE_URL: database.url } });
        } finally {
          await database.drop();
        }
      },
    });
  }
}

/** A fresh database on the test server: its URL, and a way to drop it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = parseWarehouseUrl(TEST_URL);
  if (!base) throw new Error(`WAREHOUSE_TEST_URL is not set (${SKIP_REASON})`);
  const name = `${base.database}_t_${uniqueName("db").toLowerCase().replace(/^db_/, "")}`;
  const admin = new MysqlWarehouse(base, { connections: 1 });
  try {
    await admin.run(`CREATE DATABASE "${name}" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.close();
  }
  const url = new URL(TEST_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new MysqlWarehouse(base, { connections: 1 });
      try {
        await again.run(`DROP DATABASE IF EXISTS "${name}"`);
      } finally {
        await again.close();
      }
    },
  };
}

/** Opens the warehouse `config` names (SQLite file or the test database). */
export async function openEngineWarehouse(config: Config): Promise<Warehouse> {
  return await openWarehouseFromConfig(config);
}
