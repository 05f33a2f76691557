/**
 * GET / (no auth): the dashboard, one page served by the program itself. Its script, styles and
 * the chart library (uPlot, from routes/dashboard/vendor.ts) are string constants compiled into
 * the binary; the Content-Security-Policy lets the page talk to this server only. It reads the
 * same unauthenticated, secret-free endpoints as curl: /status, /status/history, /status/runs.
 */
import { type Context, Hono } from "hono";
import { DASHBOARD_JS } from "./dashboard/client.ts";
import { DASHBOARD_HTML } from "./dashboard/page.ts";
import { DASHBOARD_CSS } from "./dashboard/style.ts";
import { UPLOT_CSS, UPLOT_JS } from "./dashboard/vendor.ts";
import type { AppEnv } from "./deps.ts";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const ASSETS: Record<string, { type: string; body: string }> = {
  "app.js": { type: "text/javascript; charset=utf-8", body: DASHBOARD_JS },
  "style.css": { type: "text/css; charset=utf-8", body: DASHBOARD_CSS },
  "uplot.js": { type: "text/javascript; charset=utf-8", body: UPLOT_JS },
  "uplot.css": { type: "text/css; charset=utf-8", body: UPLOT_CSS },
};

export function dashboardRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => send(c, "text/html; charset=utf-8", DASHBOARD_HTML, "no-cache"));
  app.get("/dashboard/:asset", (c) => {
    const asset = ASSETS[c.req.param("asset")];
    if (!asset) return c.notFound();
    return send(c, asset.type, asset.body, "public, max-age=300");
  });
  return app;
}

function send(c: Context<AppEnv>, type: string, body: string, cache: string): Response {
  return c.body(body, 200, {
    "Content-Type": type,
    "Content-Security-Policy": CSP,
    "Cache-Control": cache,
  });
}
