/**
 * The HTTP API, built by a factory from its dependencies (tested with app.request(), no server).
 * Order: secure headers, who is calling, audit of every call, the body limit, the route groups,
 * one error handler.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { NotFoundError } from "../src/core/errors.ts";
import { auditCalls } from "./audit.ts";
import { identify } from "./auth.ts";
import { limitBodies } from "./body.ts";
import { dashboardRoutes } from "./dashboard.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { errorHandler } from "./errors.ts";
import { feedRoutes } from "./feeds.ts";
import { healthRoutes } from "./health.ts";
import { jobRoutes } from "./jobs.ts";
import { metricsRoutes } from "./metrics.ts";
import { permissionRoutes } from "./permissions.ts";

export type { AppDeps } from "./deps.ts";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const log = deps.log.child({ component: "api" });
  const app = new Hono<AppEnv>();
  app.use("*", secureHeaders());
  app.use("*", identify(deps.warehouse));
  app.use("*", auditCalls(deps.warehouse, log));
  // After the audit, so refused bodies are audited too; before any route reads one.
  app.use("*", limitBodies());

  app.route("/", dashboardRoutes());
  app.route("/", healthRoutes(deps));
  app.route("/permissions", permissionRoutes(deps));
  app.route("/feeds", feedRoutes(deps));
  app.route("/jobs", jobRoutes(deps));
  app.route("/metrics", metricsRoutes(deps));

  app.notFound((c) => c.json({ error: new NotFoundError("no such route").message }, 404));
  app.onError(errorHandler(log));
  return app;
}
