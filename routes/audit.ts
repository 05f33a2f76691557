/** Every API call becomes an AUDIT_LOG row: account, route, status (never a token or a body). */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../src/core/log.ts";
import { audit } from "../src/governance/audit.ts";
import type { Sql } from "../src/warehouse/engine.ts";
import type { AppEnv } from "./deps.ts";

export function auditCalls(db: Sql, log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const route = `${c.req.method} ${c.req.path}`;
    try {
      await audit(db, {
        actor: c.get("account")?.name ?? "anonymous",
        action: "api.call",
        target: route.slice(0, 300),
        outcome: status === 401 || status === 403 ? "denied" : status >= 400 ? "error" : "ok",
        detail: { method: c.req.method, status },
      });
    } catch (error) {
      log.error("api.audit_failed", { route, error: (error as Error).message });
    }
    log.debug("api.call", { method: c.req.method, path: c.req.path.slice(0, 200), status });
  };
}
