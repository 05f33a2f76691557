import assert from "node:assert/strict";
import { recentAudit } from "../../src/governance/audit.ts";
import { lastRuns } from "../../src/scheduler/store.ts";
import { engineTest } from "../helpers/engines.ts";
import { jsonInit, ORDERS, setupApi } from "./fixtures.ts";

engineTest("GET /health answers without a token, with secure headers", async (_t, e) => {
  const api = await setupApi({ loadRows: false, env: e.env });
  try {
    const res = await api.request("/health");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
    assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
    assert.equal(res.headers.get("X-Frame-Options"), "SAMEORIGIN");
    const [status, body] = await api.json("/no/such/route");
    assert.equal(status, 404);
    assert.equal(body.error, "no such route");
  } finally {
    await api.close();
  }
});

engineTest("/permissions: admin lists, grants and revokes; 401, 403, 404, 400", async (t, e) => {
  const api = await setupApi({ loadRows: false, env: e.env });
  const { admin, reader } = api.tokens;
  try {
    await t.step("GET as admin lists grants, tokens never included", async () => {
      const res = await api.request("/permissions", { token: admin });
      assert.equal(res.status, 200);
      const text = await res.text();
      const body = JSON.parse(text);
      assert.ok(
        body.permissions.some((p: { account: string; topic: string; level: string }) =>
          p.account === "reader" && p.topic === api.orders && p.level === "read"
        ),
      );
      for (const token of Object.values(api.tokens)) assert.ok(!text.includes(token));
    });
    await t.step("401 without a token, with a wrong one, or a malformed header", async () => {
      assert.equal((await api.request("/permissions")).status, 401);
      assert.equal((await api.request("/permissions", { token: "wrong" })).status, 401);
      const res = await api.request("/permissions", { headers: { Authorization: admin } });
      assert.equal(res.status, 401);
      assert.match((await res.json()).error, /Bearer/);
    });
    await t.step("403 for an account without admin", async () => {
      const [status, body] = await api.json("/permissions", { token: reader });
      assert.equal(status, 403);
      assert.match(body.error, /admin/);
      const post = jsonInit("POST", { account: "reader", topic: "*", level: "admin" }, reader);
      assert.equal((await api.request("/permissions", post)).status, 403);
    });
    await t.step("POST grants (201), DELETE revokes (200)", async () => {
      const grant = jsonInit(
        "POST",
        { account: "nobody", topic: api.secrets, level: "read" },
        admin,
      );
      const [status, body] = await api.json("/permissions", grant);
      assert.equal(status, 201);
      assert.deepEqual(body, {
        account: "nobody",
        topic: api.secrets,
        level: "read",
        previous: null,
      });
      const [s2] = await api.json(`/feeds/${api.secrets}/rows`, { token: api.tokens.nobody });
      assert.equal(s2, 200);

      const del = jsonInit("DELETE", { account: "nobody", topic: api.secrets }, admin);
      const [s3, revoked] = await api.json("/permissions", del);
      assert.equal(s3, 200);
      assert.equal(revoked.revoked.level, "read");
      const [s4] = await api.json(`/feeds/${api.secrets}/rows`, { token: api.tokens.nobody });
      assert.equal(s4, 403);
      const [s5] = await api.json(
        `/permissions?account=reader&topic=${api.orders}`,
        { method: "DELETE", token: admin },
      );
      assert.equal(s5, 200);
    });
    await t.step("404 for unknown accounts, feeds and grants", async () => {
      const cases = [
        jsonInit("POST", { account: "ghost", topic: api.orders, level: "read" }, admin),
        jsonInit("POST", { account: "reader", topic: "NO_SUCH_FEED", level: "read" }, admin),
        jsonInit("DELETE", { account: "writer", topic: api.secrets }, admin),
      ];
      for (const init of cases) {
        const [status, body] = await api.json("/permissions", init);
        assert.equal(status, 404, JSON.stringify(body));
      }
    });
    await t.step("400 for bad levels, missing fields and broken JSON", async () => {
      const cases = [
        jsonInit("POST", { account: "reader", topic: api.orders, level: "owner" }, admin),
        jsonInit("POST", { account: "reader", level: "read" }, admin),
        jsonInit("POST", "{not json", admin),
        jsonInit("POST", "", admin),
      ];
      for (const init of cases) {
        const [status, body] = await api.json("/permissions", init);
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(typeof body.error, "string");
      }
    });
  } finally {
    await api.close();
  }
});

engineTest(
  "/feeds and /feeds/:feed/rows: read permission, paging, filters, 401/403/404/400",
  async (t, e) => {
    const api = await setupApi({ env: e.env });
    const { admin, reader, nobody } = api.tokens;
    try {
      await t.step("GET /feeds lists only the feeds the caller may read", async () => {
        const [status, body] = await api.json("/feeds", { token: reader });
        assert.equal(status, 200);
        assert.deepEqual(body.feeds.map((f: { name: string }) => f.name), [api.orders]);
        const [, all] = await api.json("/feeds", { token: admin });
        assert.equal(all.feeds.length, 2);
        const [, none] = await api.json("/feeds", { token: nobody });
        assert.deepEqual(none.feeds, []);
        assert.equal((await api.request("/feeds")).status, 401);
      });
      await t.step("rows, with a limit and an opaque cursor, in load order", async () => {
        const [status, page1] = await api.json(`/feeds/${api.orders}/rows?limit=2`, {
          token: reader,
        });
        assert.equal(status, 200);
        assert.deepEqual(page1.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID), ["O1", "O2"]);
        assert.equal(page1.rows[0].AMOUNT, 10.5);
        assert.ok(page1.nextCursor);
        const [, page2] = await api.json(
          `/feeds/${api.orders}/rows?limit=2&cursor=${page1.nextCursor}`,
          { token: reader },
        );
        assert.deepEqual(page2.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID), ["O3", "O4"]);
        const [, page3] = await api.json(
          `/feeds/${api.orders}/rows?limit=2&cursor=${page2.nextCursor}`,
          { token: reader },
        );
        assert.deepEqual(page3.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID), ["O5"]);
        assert.equal(page3.nextCursor, null);
        const [, all] = await api.json(`/feeds/${api.orders}/rows`, { token: reader });
        assert.equal(all.count, ORDERS.length);
      });
      await t.step("field filters on known columns", async () => {
        const [status, body] = await api.json(`/feeds/${api.orders}/rows?COUNTRY=France`, {
          token: reader,
        });
        assert.equal(status, 200);
        assert.deepEqual(body.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID), [
          "O1",
          "O3",
          "O4",
        ]);
        const [, two] = await api.json(`/feeds/${api.orders}/rows?COUNTRY=Spain&AMOUNT=50`, {
          token: reader,
        });
        assert.deepEqual(two.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID), ["O5"]);
      });
      await t.step("401 without a token, 403 without read, 404 for unknown feeds", async () => {
        assert.equal((await api.request(`/feeds/${api.orders}/rows`)).status, 401);
        assert.equal(
          (await api.request(`/feeds/${api.secrets}/rows`, { token: reader })).status,
          403,
        );
        assert.equal(
          (await api.request(`/feeds/${api.orders}/rows`, { token: nobody })).status,
          403,
        );
        const [status, body] = await api.json("/feeds/NO_SUCH_FEED/rows", { token: admin });
        assert.equal(status, 404);
        assert.match(body.error, /unknown feed/);
        // Feed names are case-sensitive declarations, not table lookups.
        assert.equal(
          (await api.request(`/feeds/${api.orders.toLowerCase()}/rows`, { token: admin })).status,
          404,
        );
      });
      await t.step("400 for bad limits, cursors and unknown filter columns", async () => {
        for (
          const query of [
            "limit=0",
            "limit=1001",
            "limit=abc",
            "limit=-1",
            "limit=1.5",
            "cursor=not-a-cursor",
            `cursor=${btoa(JSON.stringify({ r: "1 OR 1=1" }))}`,
            "NO_SUCH_COLUMN=1",
            "COUNTRY=France&COUNTRY=Spain",
          ]
        ) {
          const [status, body] = await api.json(`/feeds/${api.orders}/rows?${query}`, {
            token: reader,
          });
          assert.equal(status, 400, `${query}: ${JSON.stringify(body)}`);
          assert.equal(typeof body.error, "string");
        }
      });
      await t.step(
        "SQL injection and path traversal in feed names and filters fail cleanly",
        async () => {
          const feedNames = [
            encodeURIComponent(`${api.orders}; DROP TABLE ${api.orders}; --`),
            encodeURIComponent(`${api.orders}" --`),
            encodeURIComponent("../../etc/passwd"),
            "..%2F..%2Fetc%2Fpasswd",
            encodeURIComponent("ACCOUNTS"),
            encodeURIComponent("sqlite_master"),
            "%00",
          ];
          for (const name of feedNames) {
            const res = await api.request(`/feeds/${name}/rows`, { token: admin });
            assert.ok(res.status === 404, `${name}: ${res.status}`);
            assert.equal(typeof (await res.json()).error, "string");
          }
          const traversal = await api.request("/feeds/../permissions", { token: reader });
          assert.ok([403, 404].includes(traversal.status), String(traversal.status));
          await traversal.body?.cancel();

          const badColumns = [
            encodeURIComponent(`COUNTRY" = 'x' OR 1=1 --`),
            encodeURIComponent("COUNTRY OR 1"),
            encodeURIComponent("rowid"),
          ];
          for (const column of badColumns) {
            const [status] = await api.json(`/feeds/${api.orders}/rows?${column}=1`, {
              token: reader,
            });
            assert.equal(status, 400, column);
          }
          const [status, body] = await api.json(
            `/feeds/${api.orders}/rows?COUNTRY=${encodeURIComponent("France' OR '1'='1")}`,
            { token: reader },
          );
          assert.equal(status, 200);
          assert.equal(body.count, 0); // a value is only ever a value
          const count = await api.db.get(`SELECT COUNT(*) AS n FROM "${api.orders}"`);
          assert.equal(Number(count?.n), ORDERS.length, "the table is intact");
        },
      );
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "POST /feeds/:feed/records: validated, produced to the topic; 401/403/404/400",
  async (t, e) => {
    const api = await setupApi({ loadRows: false, env: e.env });
    const { writer, reader } = api.tokens;
    try {
      await t.step(
        "202 and the records are in the feed's topic, keyed by primary key",
        async () => {
          const records = [
            { ORDER_ID: "N1", COUNTRY: "Italy", AMOUNT: 1.25, CREATED_AT: "2026-11-24T08:00:00Z" },
            { ORDER_ID: "N2", COUNTRY: "Italy", AMOUNT: 2, CREATED_AT: "2026-11-24T09:00:00Z" },
          ];
          const [status, body] = await api.json(
            `/feeds/${api.orders}/records`,
            jsonInit("POST", records, writer),
          );
          assert.equal(status, 202, JSON.stringify(body));
          assert.equal(body.accepted, 2);
          const [one] = await api.json(
            `/feeds/${api.orders}/records`,
            jsonInit("POST", { ORDER_ID: "N3", CREATED_AT: "2026-11-24T10:00:00Z" }, writer),
          );
          assert.equal(one, 202);

          const seen: { key: string; value: { ORDER_ID: string } }[] = [];
          const consumer = await api.kafka.consume({
            groupId: `${api.config.kafka.groupId}.check`,
            topics: [api.orders],
            stopWhenCaughtUp: true,
            onBatch: (batch) => {
              for (const r of batch.records) {
                seen.push({
                  key: new TextDecoder().decode(r.key!),
                  value: JSON.parse(new TextDecoder().decode(r.value!)),
                });
              }
              return Promise.resolve();
            },
          });
          await consumer.done;
          assert.deepEqual(seen.map((s) => s.key).sort(), ["N1", "N2", "N3"]);
          assert.deepEqual(seen.find((s) => s.key === "N1")!.value, records[0]);
        },
      );
      await t.step("401, 403 (read only), 404", async () => {
        const record = { ORDER_ID: "X", CREATED_AT: "2026-11-24T08:00:00Z" };
        assert.equal(
          (await api.request(`/feeds/${api.orders}/records`, jsonInit("POST", record))).status,
          401,
        );
        assert.equal(
          (await api.request(`/feeds/${api.orders}/records`, jsonInit("POST", record, reader)))
            .status,
          403,
        );
        assert.equal(
          (await api.request(`/feeds/${api.secrets}/records`, jsonInit("POST", record, writer)))
            .status,
          403,
        );
        assert.equal(
          (await api.request("/feeds/NOPE/records", jsonInit("POST", record, api.tokens.admin)))
            .status,
          404,
        );
      });
      await t.step("400 for records that do not fit the feed", async () => {
        const cases: [unknown, RegExp][] = [
          [{ COUNTRY: "France", CREATED_AT: "2026-11-24T08:00:00Z" }, /primary-key field ORDER_ID/],
          [{ ORDER_ID: "A", AMOUNT: "ten", CREATED_AT: "2026-11-24T08:00:00Z" }, /AMOUNT/],
          [{ ORDER_ID: "A", CREATED_AT: "yesterday" }, /CREATED_AT/],
          [{ ORDER_ID: "A", CREATED_AT: "2026-11-24T08:00:00Z", EMAIL: "a@b.c" }, /unknown field/],
          [[], /no records/],
          [[42], /JSON object/],
          ["{broken", /not valid JSON/],
        ];
        for (const [body, message] of cases) {
          const [status, answer] = await api.json(
            `/feeds/${api.orders}/records`,
            jsonInit("POST", body, writer),
          );
          assert.equal(status, 400, JSON.stringify(body));
          assert.match(answer.error, message);
        }
      });
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "POST /jobs/:job/run: admin runs jobs, 409 while one runs; 401/403/404",
  async (t, e) => {
    const api = await setupApi({ loadRows: false, env: e.env });
    const { admin, reader } = api.tokens;
    try {
      await t.step("200 with ?wait=true: the run with its counts", async () => {
        const path =
          `${api.config.dataLakeDir}/${api.orders}/2026-11-21/${api.orders}_2026-11-21.jsonl`;
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        await Deno.writeTextFile(path, ORDERS.map((o) => JSON.stringify(o) + "\n").join(""));
        const [status, body] = await api.json("/jobs/pipeline/run?wait=true", {
          method: "POST",
          token: admin,
        });
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal(body.run.outcome, "ok");
        assert.equal(body.run.counts.rows_loaded, ORDERS.length);
        assert.equal(body.run.trigger, "api");
        assert.equal(body.run.actor, "admin");
      });
      await t.step(
        "202 at once, and 409 for a second run while the first holds the lock",
        async () => {
          // Hold the lock the way a run in another process would.
          const other = api.db;
          await other.run(
            `INSERT INTO JOB_LOCKS (NAME, JOB, PID, HOST, ACQUIRED_AT, HEARTBEAT_AT)
         VALUES ('warehouse-jobs', 'load', ?, 'elsewhere', ?, ?)`,
            [Deno.pid, new Date().toISOString(), new Date().toISOString()],
          );
          const [status, body] = await api.json("/jobs/load/run", { method: "POST", token: admin });
          assert.equal(status, 409);
          assert.match(body.error, /already running/);
          await other.run("DELETE FROM JOB_LOCKS");

          const [accepted, started] = await api.json("/jobs/cleanup/run", {
            method: "POST",
            token: admin,
          });
          assert.equal(accepted, 202);
          assert.equal(started.run.outcome, "running");
          await api.runner.shutdown(); // waits for it
          assert.equal((await lastRuns(api.db)).cleanup?.outcome, "ok");
        },
      );
      await t.step("401, 403, 404", async () => {
        assert.equal((await api.request("/jobs/load/run", { method: "POST" })).status, 401);
        assert.equal(
          (await api.request("/jobs/load/run", { method: "POST", token: reader })).status,
          403,
        );
        const [status, body] = await api.json("/jobs/vacuum/run", { method: "POST", token: admin });
        assert.equal(status, 404);
        assert.match(body.error, /unknown job/);
        assert.equal((await api.request("/jobs/load/run", { token: admin })).status, 404); // GET
      });
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "GET /status reflects a run and Kafka; GET /metrics is Prometheus text",
  async (t, e) => {
    const api = await setupApi({ env: e.env });
    try {
      await t.step("/status without a token: the load run with counts and times", async () => {
        const res = await api.request("/status");
        assert.equal(res.status, 200);
        const text = await res.text();
        const status = JSON.parse(text);
        assert.equal(status.kafka.connected, true);
        const load = status.jobs.find((j: { job: string }) => j.job === "load");
        assert.equal(load.lastRun.outcome, "ok");
        assert.equal(load.lastRun.counts.rows_loaded, ORDERS.length);
        assert.ok(Date.parse(load.lastRun.finishedAt) >= Date.parse(load.lastRun.startedAt));
        assert.ok(load.lastRun.durationMs >= 0);
        const pipeline = status.jobs.find((j: { job: string }) => j.job === "pipeline");
        assert.ok(Date.parse(pipeline.nextRun) > Date.now());
        const orders = status.feeds.find((f: { name: string }) => f.name === api.orders);
        assert.equal(orders.warehouseRows, ORDERS.length);
        assert.equal(orders.lake.files, 1);
        assert.ok(orders.lake.bytes > 0);
        for (const token of Object.values(api.tokens)) assert.ok(!text.includes(token));
        assert.ok(!text.includes(api.config.anonymizationKey!));
      });
      await t.step("/metrics: 200 for read on *, 401 without a token, 403 otherwise", async () => {
        const res = await api.request("/metrics", { token: api.tokens.admin });
        assert.equal(res.status, 200);
        assert.match(res.headers.get("Content-Type")!, /^text\/plain; version=0.0.4/);
        const text = await res.text();
        assert.match(text, /# TYPE datalake_rows_loaded_total counter/);
        assert.ok(
          text.includes(`datalake_rows_loaded_total{feed="${api.orders}"} ${ORDERS.length}`),
        );
        assert.ok(text.includes(`datalake_warehouse_rows{feed="${api.orders}"} ${ORDERS.length}`));
        assert.match(text, /datalake_job_last_duration_seconds\{job="load"\} [0-9.]+/);
        assert.match(text, /datalake_kafka_up 1/);
        assert.equal((await api.request("/metrics")).status, 401);
        assert.equal((await api.request("/metrics", { token: api.tokens.reader })).status, 403);
      });
    } finally {
      await api.close();
    }
  },
);

Deno.test({
  name: "GET /status with the broker down: Kafka shown down, still 200",
  // The client keeps retrying the unreachable broker in the background after the answer.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const api = await setupApi({ brokers: "127.0.0.1:1" });
    try {
      const [status, body] = await api.json("/status");
      assert.equal(status, 200);
      assert.equal(body.kafka.connected, false);
      assert.match(body.kafka.error, /127\.0\.0\.1:1/);
      assert.ok(body.feeds.every((f: { lag: number | null }) => f.lag === null));
      assert.equal(
        body.feeds.find((f: { name: string }) => f.name === api.orders).warehouseRows,
        ORDERS.length,
      );
    } finally {
      await api.close();
    }
  },
});

engineTest(
  "every call is audited; tokens appear in no log, response or audit row",
  async (_t, e) => {
    const api = await setupApi({ env: e.env });
    const { admin, reader } = api.tokens;
    try {
      const calls: [string, RequestInit & { token?: string }][] = [
        ["/health", {}],
        ["/permissions", { token: admin }],
        ["/permissions", { token: reader }],
        ["/permissions", { token: "not-a-token" }],
        [`/feeds/${api.orders}/rows?COUNTRY=France`, { token: reader }],
        ["/feeds/NOPE/rows", { token: reader }],
        ["/metrics", { token: admin }],
      ];
      const bodies: string[] = [];
      const before = (await recentAudit(api.db, { action: "api.call", limit: 1000 })).length;
      for (const [path, init] of calls) bodies.push(await (await api.request(path, init)).text());
      const rows = await recentAudit(api.db, { action: "api.call", limit: 1000 });
      assert.equal(rows.length - before, calls.length);
      const newest = rows.slice(0, calls.length).reverse();
      assert.deepEqual(
        newest.map((r) => [r.actor, r.target, r.outcome, (r.detail as { status: number }).status]),
        [
          ["anonymous", "GET /health", "ok", 200],
          ["admin", "GET /permissions", "ok", 200],
          ["reader", "GET /permissions", "denied", 403],
          ["anonymous", "GET /permissions", "denied", 401],
          ["reader", `GET /feeds/${api.orders}/rows`, "ok", 200],
          ["reader", "GET /feeds/NOPE/rows", "error", 404],
          ["admin", "GET /metrics", "ok", 200],
        ],
      );
      const everything = [
        ...bodies,
        ...api.logs,
        JSON.stringify(await api.db.all("SELECT * FROM AUDIT_LOG")),
        JSON.stringify(await api.db.all("SELECT * FROM JOB_RUNS")),
      ].join("\n");
      for (const token of [...Object.values(api.tokens), "not-a-token"]) {
        assert.ok(!everything.includes(token), `a token leaked`);
      }
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "jobs, /status and /metrics on the engine: a cleanup run, row counts, no password",
  async (_t, e) => {
    const api = await setupApi({ env: e.env });
    try {
      const [status, body] = await api.json("/jobs/cleanup/run?wait=true", {
        method: "POST",
        token: api.tokens.admin,
      });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.run.outcome, "ok");
      const res = await api.request("/status");
      assert.equal(res.status, 200);
      const text = await res.text();
      const shown = JSON.parse(text);
      const cleanup = shown.jobs.find((j: { job: string }) => j.job === "cleanup");
      assert.equal(cleanup.lastRun.outcome, "ok");
      assert.equal(cleanup.lastRun.trigger, "api");
      assert.equal(shown.running, null, "the lock was released");
      const orders = shown.feeds.find((f: { name: string }) => f.name === api.orders);
      assert.equal(orders.warehouseRows, ORDERS.length);
      const password = api.config.warehouseUrl?.password;
      if (password) assert.ok(!text.includes(password), "the warehouse password is not shown");

      const metrics = await (await api.request("/metrics", { token: api.tokens.admin })).text();
      assert.ok(metrics.includes(`datalake_warehouse_rows{feed="${api.orders}"} ${ORDERS.length}`));
      assert.match(metrics, /datalake_job_last_success\{job="cleanup"\} 1/);
      if (password) assert.ok(!metrics.includes(password));
    } finally {
      await api.close();
    }
  },
);
