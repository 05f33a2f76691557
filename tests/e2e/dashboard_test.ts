/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by puppeteer-core, on a
 * real `serve` (in this process, with only this test's feeds) fed from the real broker. Every feed is listed with the row count of
 * /status, both charts are drawn, no request leaves the server, and the console stays clean.
 * Skipped, with a message, where no chromium is installed (CHROMIUM_PATH names another one).
 */
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { Logger } from "../../src/core/log.ts";
import { serve } from "../../app/serve.ts";
import { produceWithKcat, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { ordersFeed } from "../routes/fixtures.ts";
import { lakeLines, waitFor } from "./service_helpers.ts";
import { KCAT_MISSING, testNeeding } from "../helpers/needs.ts";

const ADMIN_TOKEN = "dashboard-admin-token-0123456789abcdef";
const DAY = "2026-11-24";

function findChromium(): string | undefined {
  for (
    const path of [Deno.env.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  ) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

const chromium = findChromium();
const CHROMIUM_MISSING = chromium ? undefined : "no chromium found; run `bash scripts/setup.sh` " +
  "as root, `apt-get install chromium`, or set CHROMIUM_PATH";

function order(i: number): string {
  return JSON.stringify({
    ORDER_ID: `D${i}`,
    COUNTRY: i % 2 ? "France" : "Spain",
    AMOUNT: i + 0.25,
    CREATED_AT: `${DAY}T09:00:00Z`,
  });
}

testNeeding(CHROMIUM_MISSING ?? KCAT_MISSING)({
  name:
    "dashboard: feeds with /status row counts, charts drawn, nothing fetched elsewhere, no console error",
  // puppeteer keeps a websocket and the browser process: closed at the end, not per op.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const feeds = [uniqueName("DASH_ORDERS"), uniqueName("DASH_RETURNS")];
    const config = await testConfig({
      feeds: feeds.map((name) => ordersFeed(name)),
      env: { ADMIN_TOKEN, PORT: "0", PIPELINE_SCHEDULE: "0 0 1 1 *" },
    });
    const kafka = testKafka();
    try {
      await kafka.ensureTopics(feeds.map((topic) => ({ topic, partitions: 3 })));
    } finally {
      await kafka.close();
    }
    await produceWithKcat(feeds[0], Array.from({ length: 30 }, (_, i) => order(i)));
    await produceWithKcat(feeds[1], Array.from({ length: 7 }, (_, i) => order(i)));
    const logs: string[] = [];
    const stop = new AbortController();
    let listening: (port: number) => void = () => {};
    const port = new Promise<number>((resolve) => (listening = resolve));
    const running = serve({
      config,
      log: new Logger({ level: "info", sink: { write: (line) => logs.push(line) } }),
      signal: stop.signal,
      process: false,
      cron: () => Promise.resolve(), // the test starts the load itself
      onListen: (p) => listening(p),
    });
    running.catch(() => {});
    const base = `http://127.0.0.1:${await port}`;
    const served = { url: (path: string) => base + path };
    const browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"],
      defaultViewport: { width: 1400, height: 1000 },
    });
    try {
      await waitFor("the lake", async () => {
        const a = await lakeLines(config.dataLakeDir, feeds[0], DAY);
        const b = await lakeLines(config.dataLakeDir, feeds[1], DAY);
        return a.length === 30 && b.length === 7 ? true : undefined;
      });
      const load = await fetch(served.url("/jobs/load/run?wait=true"), {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(load.status, 200, await load.text());
      // Two samples of the flow make the first chart point (serve samples every 10 s).
      await waitFor("a point of flow history", async () => {
        const history = await (await fetch(served.url("/status/history"))).json();
        return history.times.length > 0 ? true : undefined;
      }, 60_000);
      const status = await (await fetch(served.url("/status"))).json();

      const page = await browser.newPage();
      const origin = new URL(served.url("/")).origin;
      const outside: string[] = [];
      const problems: string[] = [];
      await page.setRequestInterception(true);
      page.on("request", (request) => {
        const url = request.url();
        if (url.startsWith("data:") || new URL(url).origin === origin) void request.continue();
        else {
          outside.push(url);
          void request.abort();
        }
      });
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${String(error)}`));
      page.on("requestfailed", (request) => problems.push(`failed: ${request.url()}`));

      const response = await page.goto(served.url("/"), { waitUntil: "load", timeout: 60_000 });
      assert.equal(response?.status(), 200);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 });

      const shown = await page.$$eval("#feeds tr[data-feed]", (rows) =>
        rows.map((row) => ({
          name: row.getAttribute("data-feed"),
          rows: Number(row.querySelector("[data-rows]")?.getAttribute("data-rows")),
          text: row.textContent,
        })));
      assert.deepEqual(
        shown.map((s) => [s.name, s.rows]),
        status.feeds.map((f: { name: string; warehouseRows: number }) => [f.name, f.warehouseRows]),
      );
      assert.deepEqual(shown.map((s) => s.rows), [30, 7]);
      assert.match(await page.$eval("#kafka", (el) => el.textContent ?? ""), /Kafka up/);
      assert.match(await page.$eval("#runs tbody", (el) => el.textContent ?? ""), /load.*ok/);

      for (const id of ["chart-lake", "chart-processor"]) {
        const painted = await page.$eval(`#${id} canvas`, (canvas) => {
          // No DOM types in this program: the few canvas members used, by hand.
          const c = canvas as unknown as {
            width: number;
            height: number;
            getContext(kind: "2d"): {
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
          const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
          return { width: c.width, height: c.height, painted: n };
        });
        assert.ok(painted.width > 100 && painted.height > 100, `${id}: ${JSON.stringify(painted)}`);
        assert.ok(painted.painted > 500, `${id} canvas is blank: ${JSON.stringify(painted)}`);
      }
      // The lake chart has a series per feed, named in its legend.
      const legend = await page.$eval("#chart-lake", (el) => el.textContent ?? "");
      for (const feed of feeds) assert.ok(legend.includes(feed), legend);

      assert.deepEqual(outside, [], "requests left the server");
      assert.deepEqual(problems, []);
      const html = await page.content();
      assert.ok(!html.includes(ADMIN_TOKEN), "no secret on the page");
    } catch (error) {
      console.error(logs.slice(-30).join("\n"));
      throw error;
    } finally {
      await browser.close();
      stop.abort();
      await running;
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
});
