/**
 * A load inside the running service must not stall the API: the real JobRunner and API over one
 * real SQLite file, a 300,000-line lake, and calls (health, status, row reads) every 100 ms while
 * the load runs: every call answers, and every row read is audited. How fast they answer is a
 * measurement, not a test: bench/api_latency.sh gives the median and worst during a load.
 */
import assert from "node:assert/strict";
import { createApp } from "../../routes/app.ts";
import { silentLogger } from "../../src/core/log.ts";
import { bootstrapAdmin, createAccount } from "../../src/governance/accounts.ts";
import { audit } from "../../src/governance/audit.ts";
import { grant } from "../../src/governance/permissions.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import { JobRunner } from "../../src/scheduler/runner.ts";
import { ensureJobTables } from "../../src/scheduler/store.ts";
import { warehouseJobs } from "../../src/service/jobs.ts";
import { ServiceStats } from "../../src/service/stats.ts";
import { openSqliteWarehouse } from "../../src/warehouse/sqlite.ts";
import { REPO_ROOT, testConfig, testKafka } from "../helpers/env.ts";

const USD = "TRANSACTIONS_USD";
const ADMIN_TOKEN = "admin-token-for-latency-tests-0123456789";
const LINES = 300_000;
const CALLS = 60;

Deno.test({
  name: "load in the service: the API answers every call during a load and audits every row read",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = await testConfig({ env: { ADMIN_TOKEN } });
    const gen = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${REPO_ROOT}bench/gen_transactions.ts`,
        config.dataLakeDir,
        `${LINES}`,
        "3",
      ],
      stdout: "null",
    }).output();
    assert.equal(gen.code, 0, "lake generated");

    const db = openSqliteWarehouse(config.warehousePath);
    await ensureGovernanceSchema(db);
    await ensureJobTables(db);
    await bootstrapAdmin(db, ADMIN_TOKEN, silentLogger);
    const reader = (await createAccount(db, "reader", "test")).token;
    await grant(db, config, "reader", USD, "read", "test");
    const kafka = testKafka();
    const runner = new JobRunner({
      open: () => Promise.resolve(openSqliteWarehouse(config.warehousePath)),
      log: silentLogger,
      jobs: warehouseJobs(config, new ServiceStats()),
      audit,
    });
    // /status waits up to kafkaTimeoutMs for the (shared, busy) broker: kept short, so what is
    // measured is the warehouse side and the event loop, not Kafka's answer time.
    const app = createApp({
      config,
      warehouse: db,
      log: silentLogger,
      kafka,
      runner,
      kafkaTimeoutMs: 300,
    });
    const call = (path: string, token?: string, method = "GET") =>
      Promise.resolve(app.request(path, {
        method,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      }));
    try {
      // Tables exist (and the load has a head start) before the first row read.
      const started = await call("/jobs/load/run", ADMIN_TOKEN, "POST");
      assert.equal(started.status, 202);
      const runId = (await started.json()).run.id;
      let running = true;
      const finished = (async () => {
        while (true) {
          const row = await db.get("SELECT OUTCOME FROM JOB_RUNS WHERE RUN_ID = ?", [runId]);
          if (row?.OUTCOME !== "running") return row?.OUTCOME;
          await new Promise((r) => setTimeout(r, 50));
        }
      })().finally(() => running = false);

      const paths = ["/health", "/status", `/feeds/${USD}/rows?limit=5`];
      const calls: Promise<{ status: number; path: string; during: boolean }>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) {
        const due = t0 + i * 100;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const path = paths[i % paths.length];
        const during = running;
        calls.push(
          call(path, path.startsWith("/feeds") ? reader : undefined).then(async (res) => {
            await res.body?.cancel();
            return { status: res.status, path, during };
          }),
        );
      }
      const results = await Promise.all(calls);
      assert.equal(await finished, "ok", "the load finished");

      const during = results.filter((r) => r.during);
      assert.ok(during.length > 0, "calls were made while the load ran");
      assert.deepEqual(results.filter((r) => r.status !== 200), [], "every call answered 200");

      const reads = results.filter((r) => r.path.startsWith("/feeds")).length;
      const audited = Number(
        (await db.get(
          `SELECT count(*) AS n FROM AUDIT_LOG WHERE ACTOR = 'reader' AND ACTION = 'api.call'
         AND TARGET = ?`,
          [`GET /feeds/${USD}/rows`],
        ))!.n,
      );
      assert.equal(audited, reads, "every authenticated row read has its AUDIT_LOG row");
      const loaded = (await db.get(`SELECT count(*) AS n FROM ${USD}`))!.n;
      // The generator's 8-hex-digit ids repeat a few times in 300,000: those are updates.
      assert.ok(Number(loaded) > LINES * 0.999, `${loaded} rows loaded`);
    } finally {
      await runner.shutdown();
      await kafka.close();
      await db.close();
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
});
