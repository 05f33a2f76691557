/**
 * API latency during a load (issue 9): the real API on a real port (Deno.serve) and the real
 * JobRunner over one SQLite file; a TRANSACTIONS_USD lake of BENCH_ROWS lines (default 300,000);
 * POST /jobs/load/run, then 60 calls, one every 100 ms (health, status, row read in turn), each
 * timed from when it was due (a blocked event loop counts). Prints median, p90 and worst for the calls made during
 * the load, the same with no load (the peer: this API when idle), the load time, and whether every
 * row read has its AUDIT_LOG row. Run: `bash bench/api_latency.sh` (KAFKA_BROKERS as for tests).
 */
import { createApp } from "../routes/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { bootstrapAdmin, createAccount } from "../src/governance/accounts.ts";
import { audit } from "../src/governance/audit.ts";
import { grant } from "../src/governance/permissions.ts";
import { ensureGovernanceSchema } from "../src/governance/schema.ts";
import { connectKafka } from "../src/kafka/connect.ts";
import { JobRunner } from "../src/scheduler/runner.ts";
import { ensureJobTables } from "../src/scheduler/store.ts";
import { warehouseJobs } from "../src/service/jobs.ts";
import { openSqliteWarehouse } from "../src/warehouse/sqlite.ts";

const USD = "TRANSACTIONS_USD";
const ADMIN = "admin-token-for-the-latency-bench-0123456789";
const rows = Number(Deno.env.get("BENCH_ROWS") ?? 300_000);
const work = await Deno.makeTempDir({ prefix: "bench-latency-" });
const env = new Map(Object.entries({
  DATA_LAKE_DIR: `${work}/data_lake`,
  WAREHOUSE_PATH: `${work}/warehouse.db`,
  ADMIN_TOKEN: ADMIN,
  KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS") ?? "localhost:9092",
  ANONYMIZATION_KEY: "bench",
}));
const config = loadConfig({ get: (name) => env.get(name) });
const gen = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("gen_transactions.ts", import.meta.url).pathname,
    config.dataLakeDir,
    `${rows}`,
    "3",
  ],
  stdout: "null",
}).output();
if (!gen.success) throw new Error("lake generation failed");

const db = openSqliteWarehouse(config.warehousePath);
await ensureGovernanceSchema(db);
await ensureJobTables(db);
await bootstrapAdmin(db, ADMIN, silentLogger);
const reader = (await createAccount(db, "reader", "bench")).token;
await grant(db, config, "reader", USD, "read", "bench");
const kafka = connectKafka(config, silentLogger);
const runner = new JobRunner({
  open: () => Promise.resolve(openSqliteWarehouse(config.warehousePath)),
  log: silentLogger,
  jobs: warehouseJobs(config),
  audit,
});
const app = createApp({ config, warehouse: db, log: silentLogger, kafka, runner });
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
const base = `http://127.0.0.1:${server.addr.port}`;
const paths = ["/health", "/status", `/feeds/${USD}/rows?limit=5`];

/** A call every 100 ms until `until()` says stop (at least `min`); ms from due to answer. */
async function calls(min: number, until: () => boolean) {
  const done: Promise<{ ms: number; path: string; status: number }>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < min || !until(); i++) {
    const due = t0 + i * 100;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const path = paths[i % paths.length];
    const headers = path.startsWith("/feeds") ? { Authorization: `Bearer ${reader}` } : undefined;
    done.push(
      fetch(base + path, { headers }).then(async (res) => {
        await res.body?.cancel();
        return { ms: performance.now() - due, path, status: res.status };
      }),
    );
  }
  return await Promise.all(done);
}

function summary(label: string, results: { ms: number }[]): string {
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))].toFixed(0);
  return `${label}: ${ms.length} calls, median ${at(0.5)} ms, p90 ${at(0.9)} ms, worst ${
    ms[ms.length - 1].toFixed(0)
  } ms`;
}

const loadAverage = () => Deno.loadavg().map((n) => n.toFixed(2)).join(", ");
console.log(`load average at start: ${loadAverage()}`);
const idle = await calls(30, () => true);
const loadStarted = performance.now();
const started = await fetch(`${base}/jobs/load/run`, {
  method: "POST",
  headers: { Authorization: `Bearer ${ADMIN}` },
});
const runId = (await started.json()).run.id;
let running = true;
const finished = (async () => {
  while (running) {
    const row = await db.get("SELECT OUTCOME FROM JOB_RUNS WHERE RUN_ID = ?", [runId]);
    if (row?.OUTCOME !== "running") running = false;
    else await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - loadStarted;
})();
// As issue 9 measured it: 60 calls over the first 6 s of the load.
const during = await calls(60, () => true);
const loadMs = await finished;

const reads = [...idle, ...during].filter((r) => r.path.startsWith("/feeds")).length;
const audited = Number(
  (await db.get(
    "SELECT count(*) AS n FROM AUDIT_LOG WHERE ACTOR = 'reader' AND TARGET = ?",
    [`GET /feeds/${USD}/rows`],
  ))!.n,
);
const loaded = Number((await db.get(`SELECT count(*) AS n FROM ${USD}`))!.n);
console.log(summary("idle API (peer)", idle));
console.log(summary(`API during a ${rows}-line load`, during));
for (const path of paths) {
  console.log(summary(`  ${path.split("?")[0]}`, during.filter((r) => r.path === path)));
}
console.log(
  `load: ${loaded} rows in ${(loadMs / 1000).toFixed(1)} s = ${
    (loaded / (loadMs / 1000)).toFixed(0)
  } rows/s`,
);
const slow = during.filter((r) => r.ms >= 500).length;
console.log(`calls during the load answered in 500 ms or more: ${slow} of ${during.length}`);
console.log(`non-200 answers: ${[...idle, ...during].filter((r) => r.status !== 200).length}`);
console.log(`row reads audited: ${audited} of ${reads}`);
// The kernel's high-water mark of this process (API, runner and load together).
const peak = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/)?.[1];
console.log(`peak RSS (API and load in one process): ${Math.round(Number(peak) / 1024)} MB`);
console.log(`load average at end: ${loadAverage()}`);

await runner.shutdown();
await server.shutdown();
await kafka.close();
await db.close();
await Deno.remove(work, { recursive: true });
