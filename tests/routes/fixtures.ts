/**
 * A real API over a real warehouse (a SQLite file, or a fresh MariaDB database when the test's
 * engine env names one): governance tables, an admin (ADMIN_TOKEN bootstrap), a
 * reader and a writer, two small stream feeds with rows loaded from a real lake file, the real
 * job runner and a real Kafka client. Requests go through app.request() (no server).
 */
import { createApp } from "../../routes/app.ts";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { Logger } from "../../src/core/log.ts";
import { bootstrapAdmin, createAccount } from "../../src/governance/accounts.ts";
import { audit } from "../../src/governance/audit.ts";
import { grant } from "../../src/governance/permissions.ts";
import { ensureGovernanceSchema } from "../../src/governance/schema.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { JobRunner } from "../../src/scheduler/runner.ts";
import { ensureJobTables } from "../../src/scheduler/store.ts";
import { warehouseJobs } from "../../src/service/jobs.ts";
import { ServiceStats } from "../../src/service/stats.ts";
import type { Warehouse } from "../../src/warehouse/engine.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { testConfig, testKafka, uniqueName } from "../helpers/env.ts";

export const ADMIN_TOKEN = "admin-token-for-route-tests-0123456789";

export function ordersFeed(name: string): FeedDeclaration {
  return {
    name,
    kind: "stream",
    primaryKey: ["ORDER_ID"],
    timeField: "CREATED_AT",
    columns: { ORDER_ID: "TEXT", COUNTRY: "TEXT", AMOUNT: "REAL", CREATED_AT: "TEXT" },
  };
}

export const ORDERS = [
  { ORDER_ID: "O1", COUNTRY: "France", AMOUNT: 10.5, CREATED_AT: "2026-11-20T10:00:00Z" },
  { ORDER_ID: "O2", COUNTRY: "Spain", AMOUNT: 20, CREATED_AT: "2026-11-20T11:00:00Z" },
  { ORDER_ID: "O3", COUNTRY: "France", AMOUNT: 30, CREATED_AT: "2026-11-20T12:00:00Z" },
  { ORDER_ID: "O4", COUNTRY: "France", AMOUNT: 40, CREATED_AT: "2026-11-20T13:00:00Z" },
  { ORDER_ID: "O5", COUNTRY: "Spain", AMOUNT: 50, CREATED_AT: "2026-11-20T14:00:00Z" },
];

export interface Api {
  request(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** Status and parsed JSON body (tests read many response shapes, so the body is loose). */
  // deno-lint-ignore no-explicit-any
  json(path: string, init?: RequestInit & { token?: string }): Promise<[number, any]>;
  config: Awaited<ReturnType<typeof testConfig>>;
  orders: string;
  secrets: string;
  tokens: { admin: string; reader: string; writer: string; nobody: string };
  logs: string[];
  db: Warehouse;
  runner: JobRunner;
  kafka: KafkaClient;
  close(): Promise<void>;
}

export async function setupApi(
  options: { brokers?: string; loadRows?: boolean; env?: Record<string, string> } = {},
): Promise<Api> {
  const orders = uniqueName("ORDERS");
  const secrets = uniqueName("SECRETS");
  const config = await testConfig({
    feeds: [ordersFeed(orders), ordersFeed(secrets)],
    env: {
      ...options.env,
      ADMIN_TOKEN,
      ...(options.brokers ? { KAFKA_BROKERS: options.brokers } : {}),
    },
  });
  const logs: string[] = [];
  const log = new Logger({ level: "debug", sink: { write: (line) => logs.push(line) } });
  const db = await openWarehouseFromConfig(config);
  await ensureGovernanceSchema(db);
  await ensureJobTables(db);
  await bootstrapAdmin(db, config.adminToken!, log);
  const reader = (await createAccount(db, "reader", "test")).token;
  const writer = (await createAccount(db, "writer", "test")).token;
  const nobody = (await createAccount(db, "nobody", "test")).token;
  await grant(db, config, "reader", orders, "read", "test");
  await grant(db, config, "writer", orders, "write", "test");

  const kafka = options.brokers ? connectKafka(config, log) : testKafka();
  const stats = new ServiceStats();
  const runner = new JobRunner({
    open: () => openWarehouseFromConfig(config),
    log,
    jobs: warehouseJobs(config, stats),
    audit: (jobDb, entry) => audit(jobDb, entry),
  });
  if (options.loadRows ?? true) {
    const path = partitionPath(config.dataLakeDir, orders, "2026-11-20");
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, ORDERS.map((o) => JSON.stringify(o) + "\n").join(""));
    const run = await runner.run("load", { trigger: "cli", actor: "test" });
    if (run.outcome !== "ok") throw new Error(`fixture load failed: ${run.error}`);
  }
  const app = createApp({ config, warehouse: db, log, kafka, runner, stats, kafkaTimeoutMs: 1500 });

  const request = (path: string, init: RequestInit & { token?: string } = {}) => {
    const { token, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== undefined) headers.set("Authorization", `Bearer ${token}`);
    return Promise.resolve(app.request(path, { ...rest, headers }));
  };
  return {
    request,
    async json(path, init) {
      const res = await request(path, init);
      return [res.status, await res.json()];
    },
    config,
    orders,
    secrets,
    tokens: { admin: ADMIN_TOKEN, reader, writer, nobody },
    logs,
    db,
    runner,
    kafka,
    async close() {
      await runner.shutdown();
      if (options.brokers) {
        // A broker that is down keeps the client retrying; do not wait for it.
        await Promise.race([kafka.close().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
      } else await kafka.close();
      await db.close();
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    },
  };
}

export function jsonInit(
  method: string,
  body: unknown,
  token?: string,
): RequestInit & { token?: string } {
  return {
    method,
    token,
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}
