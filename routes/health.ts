/**
 * GET /health (no auth): the process answers. GET /status (no auth, no secrets): pretty JSON,
 * or with `?format=text` / `Accept: text/plain` the table of the `status` command. Its Kafka,
 * lake and row-count figures are kept a few seconds, so polling it is cheap.
 * GET /status/history: the last hour of flow (records per minute); GET /status/runs: last runs.
 */
import { type Context, Hono } from "hono";
import { recentRuns } from "../src/scheduler/store.ts";
import { collectStatus, redactRun } from "../src/service/status.ts";
import { TtlCache } from "../src/service/status_cache.ts";
import { formatStatus } from "../src/service/status_text.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

/** Seconds the costly /status figures are kept. */
const STATUS_TTL_MS = 3000;

export function healthRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const cache = new TtlCache(STATUS_TTL_MS);
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/status", async (c) => {
    const status = await collectStatus({
      config: deps.config,
      warehouse: deps.warehouse,
      kafka: deps.kafka,
      kafkaTimeoutMs: deps.kafkaTimeoutMs,
      cache,
      kafkaHealth: deps.stats?.kafka?.(),
      feedErrors: deps.stats?.lakeErrors?.(),
      anonymous: !c.get("account"),
      registryHealth: deps.stats?.registry?.(),
    });
    if (wantsText(c)) return c.text(formatStatus(status).join("\n") + "\n");
    return prettyJson(c, status);
  });
  app.get("/status/history", (c) => {
    if (!deps.history) return prettyJson(c, { error: "no flow history in this process" }, 404);
    return c.json(deps.history.view()); // compact: an hour of columns, read by the dashboard
  });
  app.get("/status/runs", async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 10) || 10, 1), 100);
    const runs = await recentRuns(deps.warehouse, limit);
    const anonymous = !c.get("account");
    return prettyJson(c, {
      runs: anonymous ? runs.map((run) => redactRun(run, deps.config)) : runs,
    });
  });
  return app;
}

function wantsText(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format) return format === "text";
  return /^\s*text\/plain/i.test(c.req.header("Accept") ?? "");
}

/** JSON indented for people reading curl output; still plain JSON for scripts. */
function prettyJson(c: Context<AppEnv>, value: unknown, status: 200 | 404 = 200): Response {
  return c.body(JSON.stringify(value, null, 2) + "\n", status, {
    "Content-Type": "application/json; charset=utf-8",
  });
}
