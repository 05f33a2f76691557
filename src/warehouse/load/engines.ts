/** The load engine of a warehouse: one line per engine (SQLite now; MariaDB/MySQL plugs in here). */
import type { Feed } from "../../config/feeds.ts";
import { ConfigError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import type { Warehouse } from "../engine.ts";
import { SqliteWarehouse } from "../sqlite.ts";
import type { LoadEngine } from "./engine.ts";
import { MysqlLoadEngine } from "./mysql.ts";
import { SqliteLoadEngine } from "./sqlite.ts";

export function loadEngineFor(
  warehouse: Warehouse,
  feeds: readonly Feed[],
  log: Logger,
): LoadEngine {
  if (warehouse instanceof SqliteWarehouse) {
    return new SqliteLoadEngine(warehouse.db, warehouse.label, feeds, log);
  }
  if (warehouse.engine === "mysql") return new MysqlLoadEngine(warehouse, feeds, log);
  throw new ConfigError(`Cannot load into ${warehouse.label}: no loader for ${warehouse.engine}`);
}
