/** GET /health (no auth): the process answers. GET /status (no auth, no secrets). */
import { Hono } from "hono";
import { collectStatus } from "../src/service/status.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

export function healthRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/status", async (c) =>
    c.json(
      await collectStatus({
        config: deps.config,
        db: deps.db,
        kafka: deps.kafka,
        kafkaTimeoutMs: deps.kafkaTimeoutMs,
        kafkaHealth: deps.stats?.kafka?.(),
      }),
    ));
  return app;
}
