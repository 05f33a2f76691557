/** GET /status for people and for pollers: pretty JSON, the text table, and cheap to repeat. */
import assert from "node:assert/strict";
import { createApp } from "../../routes/app.ts";
import { Logger } from "../../src/core/log.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { ServiceStats } from "../../src/service/stats.ts";
import type { SqlValue, Warehouse } from "../../src/warehouse/engine.ts";
import { ORDERS, setupApi } from "../routes/fixtures.ts";

Deno.test("GET /status: indented JSON for curl; ?format=text and Accept: text/plain give the table", async () => {
  const api = await setupApi();
  try {
    const res = await api.request("/status");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.text();
    assert.ok(body.split("\n").length > 20, "one line per field, not one long line");
    assert.match(body, /^{\n {2}"time": "/);
    assert.equal(JSON.parse(body).feeds.length, api.config.feeds.length);

    for (
      const init of [{ path: "/status?format=text" }, { path: "/status", accept: "text/plain" }]
    ) {
      const text = await api.request(init.path, {
        headers: init.accept ? { Accept: init.accept } : {},
      });
      assert.match(text.headers.get("content-type") ?? "", /^text\/plain/);
      const table = await text.text();
      assert.match(table, /^Kafka {6}up /);
      assert.match(table, /\nFEED +KIND +LAG +LAKE FILES +LAKE SIZE +WAREHOUSE ROWS\n/);
      const orders = table.split("\n").find((line) => line.startsWith(api.orders + " "));
      assert.match(
        orders ?? "",
        new RegExp(`^${api.orders} +stream +(\\d+|\\?) +1 +\\d+ B +${ORDERS.length}$`),
      );
    }
  } finally {
    await api.close();
  }
});

Deno.test("GET /status is cheap: Kafka and row counts are not asked again on every call", async () => {
  const api = await setupApi();
  let kafkaCalls = 0;
  let countQueries = 0;
  // The real client, counted (a spy on the real broker, not a fake).
  const counted = new Proxy(api.kafka, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (["listTopics", "endOffsets", "committedOffsets"].includes(String(name))) kafkaCalls++;
        return value.apply(target, args);
      };
    },
  }) as KafkaClient;
  // Row counts come from the loader's bookkeeping (ROW_COUNT), never from a COUNT(*).
  const warehouse = new Proxy(api.db, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== "all" && name !== "get") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (sql: string, params?: SqlValue[]) => {
        if (/COUNT\(\*\)|ROW_COUNT/i.test(sql)) countQueries++;
        return (value as Warehouse["all"]).call(target, sql, params);
      };
    },
  });
  const app = createApp({
    config: api.config,
    warehouse,
    log: new Logger({ level: "error", sink: { write() {} } }),
    kafka: counted,
    runner: api.runner,
    stats: new ServiceStats(),
  });
  try {
    const first = await app.request("/status");
    assert.equal(first.status, 200);
    const afterOne = { kafkaCalls, countQueries };
    assert.ok(afterOne.kafkaCalls > 0 && afterOne.countQueries > 0, JSON.stringify(afterOne));
    for (let i = 0; i < 20; i++) {
      const res = await app.request("/status");
      assert.equal(res.status, 200);
      const status = JSON.parse(await res.text());
      assert.equal(
        status.feeds.find((f: { name: string }) => f.name === api.orders).warehouseRows,
        ORDERS.length,
      );
    }
    // 20 more calls within a second or two: at most one more round of Kafka and counts.
    assert.ok(kafkaCalls <= afterOne.kafkaCalls * 2, `Kafka asked ${kafkaCalls} times`);
    assert.ok(countQueries <= afterOne.countQueries * 2, `COUNT(*) ran ${countQueries} times`);
  } finally {
    await api.close();
  }
});

Deno.test("GET /status/runs lists the latest runs; GET /status/history says when serve keeps none", async () => {
  const api = await setupApi();
  try {
    const [status, body] = await api.json("/status/runs");
    assert.equal(status, 200);
    assert.equal(body.runs[0].job, "load");
    assert.equal(body.runs[0].outcome, "ok");
    assert.equal(body.runs[0].counts.rows_loaded, ORDERS.length);
    const history = await api.request("/status/history");
    assert.equal(history.status, 404);
    await history.body?.cancel();
  } finally {
    await api.close();
  }
});
