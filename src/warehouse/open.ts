/**
 * Picks the engine from the config, the one place that knows both: WAREHOUSE_URL (mysql://...)
 * → MysqlWarehouse, else the SQLite file at WAREHOUSE_PATH. Nothing connects at import time.
 *
 * - `openWarehouseFromConfig(config, options?)`: opens it; a MySQL server is pinged, so a server
 *   that does not answer is one UnavailableError (cause kept) for one-shot commands.
 * - `connectWarehouse(config, { log, signal })`: the same for long-running `serve`: retries an
 *   unavailable server under the one retry policy (src/kafka/retry.ts), one log line per
 *   attempt, until the signal aborts.
 * - `warehouseLabel(config)`: where it is, without the password.
 */
import type { Config } from "../config/config.ts";
import { UnavailableError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { sleep, WAIT_FOREVER } from "../kafka/retry.ts";
import type { OpenOptions } from "./db.ts";
import type { Warehouse } from "./engine.ts";
import { MysqlWarehouse } from "./mysql.ts";
import { openSqliteWarehouse } from "./sqlite.ts";

export type WarehouseConfig = Pick<Config, "warehousePath" | "warehouseUrl">;

export interface OpenWarehouseOptions {
  /** SQLite only: open read-only (audits that must create nothing). */
  readOnly?: boolean;
  /** MySQL only: pool size (default 8). */
  connections?: number;
}

export async function openWarehouseFromConfig(
  config: WarehouseConfig,
  options: OpenWarehouseOptions = {},
): Promise<Warehouse> {
  if (!config.warehouseUrl) {
    const sqlite: OpenOptions = options.readOnly ? { readOnly: true } : {};
    return openSqliteWarehouse(config.warehousePath, sqlite);
  }
  const warehouse = new MysqlWarehouse(config.warehouseUrl, { connections: options.connections });
  try {
    await warehouse.ping();
  } catch (error) {
    await warehouse.close();
    throw error;
  }
  return warehouse;
}

export function warehouseLabel(config: WarehouseConfig): string {
  const url = config.warehouseUrl;
  return url
    ? `mysql://${url.user}@${url.host}:${url.port}/${url.database}`
    : `sqlite:${config.warehousePath}`;
}

/**
 * Opens the warehouse, waiting for an unavailable server under the project's one retry policy
 * (WAIT_FOREVER's backoff, the same abortable sleep); throws only when `signal` aborts or the
 * error is not an outage (a wrong password is a ConfigError at once).
 */
export async function connectWarehouse(
  config: WarehouseConfig,
  options: { log: Logger; signal?: AbortSignal; connections?: number },
): Promise<Warehouse> {
  const policy = WAIT_FOREVER;
  for (let attempt = 1;; attempt++) {
    try {
      return await openWarehouseFromConfig(config, { connections: options.connections });
    } catch (error) {
      if (!(error instanceof UnavailableError) || options.signal?.aborted) throw error;
      const delay = Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
      options.log.warn("warehouse.unavailable", {
        warehouse: warehouseLabel(config),
        attempt,
        retryInMs: delay,
        error: error.message,
      });
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
