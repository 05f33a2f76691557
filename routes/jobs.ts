/**
 * POST /jobs/:job/run (admin): starts load, cleanup or pipeline through the shared runner (409
 * while any run holds the lock). 202 with the run at once; `?wait=true` answers when it ends.
 */
import { Hono } from "hono";
import { requireAccount, requireLevel } from "./auth.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

export function jobRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireAccount, requireLevel("admin"));
  app.post("/:job/run", async (c) => {
    const started = await deps.runner.start(c.req.param("job"), {
      trigger: "api",
      actor: c.get("account")!.name,
    });
    if (c.req.query("wait") === "true") {
      const run = await started.done;
      return c.json({ run }, run.outcome === "ok" ? 200 : 500);
    }
    started.done.catch(() => {}); // failures are recorded in JOB_RUNS and logged
    return c.json({ run: started.run }, 202);
  });
  return app;
}
