/** The one error handler: DomainErrors become their status with `{ error }`; the rest 500. */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { DomainError } from "../src/core/errors.ts";
import type { Logger } from "../src/core/log.ts";
import type { AppEnv } from "./deps.ts";

export function errorHandler(log: Logger): ErrorHandler<AppEnv> {
  return (error, c) => {
    if (error instanceof DomainError && error.status < 500) {
      return c.json({ error: error.message }, error.status as 400);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: error.message || "bad request" }, error.status);
    }
    log.error("api.error", {
      method: c.req.method,
      path: c.req.path,
      error: error.message,
      kind: error.name,
    });
    const status = error instanceof DomainError ? error.status : 500;
    // Internal details stay in the log; unavailable dependencies say so.
    const message = error instanceof DomainError && status === 503
      ? error.message
      : "internal error; see the service log";
    return c.json({ error: message }, status as 500);
  };
}
