/**
 * Picks the engine from the config, the one place that knows both: WAREHOUSE_URL (mysql://...)
 * → MysqlWarehouse, else the SQLite file at WAREHOUSE_PATH. Nothing connects at import time.
 *
 * - `openWarehouseFromConfig(config, options?)`: opens it; a MySQL server is pinged, so a server
 *   that does not answer is one UnavailableError (cause kept) for one-shot commands.
 * - `connectWarehouse(config, { log, signal })`: the same for long-running `serve`: retries an
 *   unavailable server with capped backoff, one log line per attempt, until the signal aborts.
 * - `warehouseLabel(config)`: where it is, without the password.
 */
import type { Config } from "../config/config.ts";
import { UnavailableError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
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

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** Opens the warehouse, waiting for an unavailable server; throws only when `signal` aborts. */
export async function connectWarehouse(
  config: WarehouseConfig,
  options: { log: Logger; signal?: AbortSignal; connections?: number },
): Promise<Warehouse> {
  let delay = FIRST_RETRY_MS;
  for (let attempt = 1;; attempt++) {
    try {
      return await openWarehouseFromConfig(config, { connections: options.connections });
    } catch (error) {
      if (!(error instanceof UnavailableError) || options.signal?.aborted) throw error;
      options.log.warn("warehouse.unavailable", {
        warehouse: warehouseLabel(config),
        attempt,
        retryInMs: delay,
        error: error.message,
      });
      const aborted = await sleep(delay, options.signal);
      if (aborted) throw error;
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onAbort = () => done(true);
    function done(aborted: boolean) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(aborted);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
