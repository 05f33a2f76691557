/** GET|POST|DELETE /permissions (admin): list, grant and revoke through governance. */
import { Hono } from "hono";
import { grant, listPermissions, revoke } from "../src/governance/permissions.ts";
import { requireAccount, requireLevel } from "./auth.ts";
import { jsonBody, stringField } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

export function permissionRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireAccount, requireLevel("admin"));

  app.get("/", async (c) => c.json({ permissions: await listPermissions(deps.warehouse) }));

  app.post("/", async (c) => {
    const body = await jsonBody(c);
    const result = await grant(
      deps.warehouse,
      deps.config,
      stringField(body, "account"),
      stringField(body, "topic"),
      stringField(body, "level"),
      c.get("account")!.name,
    );
    return c.json(result, 201);
  });

  // The grant to remove: a JSON body, or ?account=&topic= for clients that send no DELETE body.
  app.delete("/", async (c) => {
    const query = { account: c.req.query("account"), topic: c.req.query("topic") };
    const body = query.account || query.topic ? query : await jsonBody(c);
    const result = await revoke(
      deps.warehouse,
      stringField(body, "account"),
      stringField(body, "topic"),
      c.get("account")!.name,
    );
    return c.json({ revoked: result });
  });
  return app;
}
