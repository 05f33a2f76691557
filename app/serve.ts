/**
 * `serve`, the composition root: it builds every part from src/ and the API from routes/, and
 * hands the API what it needs through createApp(deps). It lives above both so that src/ never
 * imports routes/. The lake consumer, the processor (unless disabled), the schedule and the API in one
 * process. On abort (SIGINT/SIGTERM) it stops in the order that loses nothing: stop taking HTTP
 * calls and cron ticks, stop reading Kafka (the lake flushes and commits the batch in hand), let
 * the running job finish or roll back, then close Kafka and the warehouse.
 */
import { createApp } from "../routes/app.ts";
import type { Config } from "../src/config/config.ts";
import { UnavailableError } from "../src/core/errors.ts";
import type { Logger } from "../src/core/log.ts";
import { bootstrapAdmin } from "../src/governance/accounts.ts";
import { audit } from "../src/governance/audit.ts";
import { ensureGovernanceSchema } from "../src/governance/schema.ts";
import type { KafkaClient } from "../src/kafka/client.ts";
import { connectKafka } from "../src/kafka/connect.ts";
import { KafkaHealth, type RetryContext, WAIT_FOREVER } from "../src/kafka/retry.ts";
import { supervise } from "../src/kafka/supervise.ts";
import { startLakeConsumer } from "../src/lake/consumer.ts";
import { startProcessor } from "../src/processor/processor.ts";
import { JobRunner } from "../src/scheduler/runner.ts";
import { type CronFn, startSchedule } from "../src/scheduler/schedule.ts";
import { ensureJobTables } from "../src/scheduler/store.ts";
import type { Warehouse } from "../src/warehouse/engine.ts";
import { connectWarehouse, openWarehouseFromConfig } from "../src/warehouse/open.ts";
import { logStart, startFlowReport } from "../src/service/flow.ts";
import { warehouseJobs } from "../src/service/jobs.ts";
import { ServiceStats } from "../src/service/stats.ts";

export interface ServeOptions {
  config: Config;
  log: Logger;
  /** Aborting it shuts the service down cleanly. */
  signal: AbortSignal;
  /** Run the processor too (default true; `--no-process` when ksqlDB does that job). */
  process?: boolean;
  /** Replaces Deno.cron (tests). */
  cron?: CronFn;
  /** Replaces the client from connectKafka (tests). */
  kafka?: KafkaClient;
  /** Called once the API listens, with its port. */
  onListen?: (port: number) => void;
}

/** A full or failing disk under the lake: serve tries again this often, losing nothing. */
const STORAGE_RETRY_MS = 30_000;

export async function serve(options: ServeOptions): Promise<void> {
  const { config, signal } = options;
  const log = options.log.child({ component: "serve" });
  const health = new KafkaHealth();
  const stop = new AbortController();
  const stopAll = () => stop.abort();
  signal.addEventListener("abort", stopAll, { once: true });
  if (signal.aborted) stopAll();
  // A MariaDB/MySQL server that does not answer yet is waited for (retried), as Kafka is.
  let warehouse: Warehouse;
  try {
    warehouse = await connectWarehouse(config, { log, signal: stop.signal });
  } catch (error) {
    signal.removeEventListener("abort", stopAll);
    throw error;
  }
  const kafka = options.kafka ?? connectKafka(config, options.log, health);

  let server: Deno.HttpServer | undefined;
  let runner: JobRunner | undefined;
  const parts: { name: string; stop(): Promise<void>; done: Promise<unknown> }[] = [];
  try {
    await ensureGovernanceSchema(warehouse);
    await ensureJobTables(warehouse);
    if (config.adminToken) await bootstrapAdmin(warehouse, config.adminToken, log);

    // The API first: a port already in use fails before anything reads Kafka.
    const stats = new ServiceStats();
    logStart(config, log, options.process ?? true);
    const history = startFlowReport({ stats, log, signal: stop.signal });
    stats.kafka = () => health.snapshot();
    runner = new JobRunner({
      open: () => openWarehouseFromConfig(config),
      log: options.log,
      jobs: warehouseJobs(config, stats),
      audit,
    });
    const app = createApp({ config, warehouse, log: options.log, kafka, runner, stats, history });
    try {
      server = Deno.serve({
        port: config.port,
        signal: stop.signal,
        onListen: ({ port, hostname }) => {
          log.info("serve.listening", { url: `http://${hostname}:${port}`, port });
          options.onListen?.(port);
        },
      }, app.fetch);
    } catch (error) {
      throw new UnavailableError(
        `Cannot listen on port ${config.port}: ${(error as Error).message} (set PORT)`,
      );
    }

    // Kafka may be down or still settling: the parts wait for it and restart after outages.
    const retry: RetryContext = {
      policy: WAIT_FOREVER,
      log: options.log.child({ component: "kafka" }),
      brokers: config.kafka.brokers,
      health,
      signal: stop.signal,
    };
    const lake = supervise(
      "lake consumer",
      () =>
        startLakeConsumer({
          config,
          kafka,
          log: options.log,
          feeds: config.feeds,
          signal: stop.signal,
          health,
        }),
      retry,
      { retryStorageAfterMs: STORAGE_RETRY_MS },
    );
    parts.push({ name: "lake", ...lake });
    stats.lakeErrors = () => lake.current()?.feedErrors() ?? {};
    stats.registry = () => lake.current()?.registryHealth?.();
    stats.lake = () =>
      Object.fromEntries(
        Object.entries(lake.current()?.stats() ?? {}).map((
          [feed, c],
        ) => [feed, { consumed: c.written, rejected: c.rejected }]),
      );
    if (options.process ?? true) {
      const processor = supervise(
        "processor",
        () => startProcessor({ config, kafka, log: options.log, signal: stop.signal }),
        retry,
      );
      parts.push({ name: "processor", ...processor });
      stats.processor = () =>
        processor.current()?.stats() ?? { recordsIn: 0, rejected: 0, out: {} };
    }

    startSchedule({
      schedule: config.pipelineSchedule,
      runner,
      log,
      signal: stop.signal,
      cron: options.cron,
    });

    // Runs until a signal, or until a part fails (then serve fails after a clean stop).
    const failed = Promise.race(
      parts.map((part) =>
        part.done.then(
          () => {
            if (!stop.signal.aborted) throw new Error(`${part.name} stopped unexpectedly`);
          },
          (error) => {
            throw error;
          },
        )
      ),
    );
    const aborted = new Promise<void>((resolve) =>
      stop.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    let failure: unknown;
    await Promise.race([aborted, failed.catch((error) => (failure = error))]);
    log.info("serve.stopping", { reason: failure ? "failure" : "signal" });
    stop.abort();
    if (failure) throw failure;
  } finally {
    stop.abort();
    signal.removeEventListener("abort", stopAll);
    await server?.finished.catch(() => {});
    await Promise.allSettled(parts.map((part) => part.stop()));
    await Promise.allSettled(parts.map((part) => part.done));
    await runner?.shutdown();
    await kafka.close().catch(() => {});
    await warehouse.close();
    log.info("serve.stopped", {});
  }
}
