/**
 * What /status and the `status` command show: Kafka reachability and lag per feed, last and next
 * run of each job, lake size and warehouse rows per feed. No secrets: no tokens, no keys.
 */
import type { Config } from "../config/config.ts";
import { nextRun } from "../config/cron.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { KafkaHealthSnapshot } from "../kafka/retry.ts";
import type { RegistryHealthSnapshot } from "../registry/client.ts";
import { lakeSizes } from "../lake/layout.ts";
import { currentHolder, type LockHolder } from "../scheduler/lock.ts";
import { JOB_NAMES, type JobName, type JobRun, lastRuns } from "../scheduler/store.ts";
import type { Sql } from "../warehouse/engine.ts";
import { rowCounts } from "../warehouse/query.ts";
import { noCache, type TtlCache } from "./status_cache.ts";

export interface FeedStatus {
  name: string;
  kind: string;
  /** Messages not yet in the lake (end offsets − committed offsets); null when unknown. */
  lag: number | null;
  lake: { files: number; bytes: number };
  warehouseRows: number;
  /** Why the lake consumer cannot read this feed right now (it is being retried). */
  error?: string;
}

export interface JobStatus {
  job: JobName;
  schedule: string | null;
  lastRun: JobRun | null;
  nextRun: string | null;
}

export interface ServiceStatus {
  time: string;
  kafka: { brokers: string[]; connected: boolean; error?: string; groupId: string };
  /** Only with SCHEMA_REGISTRY_URL: whether the lake consumer reaches the registry. */
  schemaRegistry?: { url: string; connected: boolean; since?: string; error?: string };
  running: LockHolder | null;
  jobs: JobStatus[];
  feeds: FeedStatus[];
}

export interface StatusOptions {
  config: Config;
  warehouse: Sql;
  kafka: KafkaClient;
  /** How long Kafka gets to answer before it is shown down (default 2000 ms). */
  kafkaTimeoutMs?: number;
  /** What serve's running parts saw (an outage they are waiting out shows Kafka down). */
  kafkaHealth?: KafkaHealthSnapshot;
  /** Feeds serve's lake consumer cannot read right now, with the cause. */
  feedErrors?: Record<string, string>;
  /** The lake consumer's view of the Schema Registry (feeds in a registry format). */
  registryHealth?: RegistryHealthSnapshot;
  now?: Date;
  /** Keeps the Kafka, lake and row-count figures for a few seconds (serve); default: none. */
  cache?: Pick<TtlCache, "get">;
  /**
   * The caller showed no token (GET /status is public): job errors lose absolute paths and
   * account names, and runs started by an account do not say which.
   */
  anonymous?: boolean;
}

export async function collectStatus(options: StatusOptions): Promise<ServiceStatus> {
  const { config, warehouse } = options;
  const now = options.now ?? new Date();
  const cache = options.cache ?? noCache;
  const [lag, sizes, counts] = await Promise.all([
    cache.get("kafka", () => lagPerFeed(options)),
    cache.get("lake", () => lakeSizes(config.dataLakeDir, config.feeds)),
    cache.get("rows", () => warehouseRows(warehouse, config)),
  ]);
  const runs = await lastRuns(warehouse);
  const running = await currentHolder(warehouse);
  const next = nextRun(config.pipelineSchedule, now).toISOString();
  return {
    time: now.toISOString(),
    kafka: {
      brokers: config.kafka.brokers,
      groupId: config.kafka.groupId,
      connected: lag.connected && options.kafkaHealth?.up !== false,
      ...(lag.error ?? options.kafkaHealth?.error
        ? { error: lag.error ?? options.kafkaHealth?.error }
        : {}),
    },
    ...(config.schemaRegistry
      ? {
        schemaRegistry: {
          url: config.schemaRegistry.url,
          connected: options.registryHealth?.up !== false,
          ...(options.registryHealth?.up === false
            ? { since: options.registryHealth.since, error: options.registryHealth.error }
            : {}),
        },
      }
      : {}),
    running: running ?? null,
    jobs: JOB_NAMES.map((job) => ({
      job,
      // load and cleanup also run inside every scheduled pipeline run.
      schedule: job === "pipeline" ? config.pipelineSchedule : null,
      lastRun: runs[job] ? (options.anonymous ? redactRun(runs[job], config) : runs[job]) : null,
      nextRun: job === "pipeline" ? next : null,
    })),
    feeds: config.feeds.map((feed) => ({
      name: feed.name,
      kind: feed.kind,
      lag: lag.byFeed.get(feed.name) ?? null,
      lake: sizes[feed.name] ?? { files: 0, bytes: 0 },
      warehouseRows: counts[feed.name] ?? 0,
      ...(options.feedErrors?.[feed.name] ? { error: options.feedErrors[feed.name] } : {}),
    })),
  };
}

/** Who may start a run without being an account (the only actors shown to anyone). */
const PUBLIC_ACTORS = new Set(["scheduler", "cli"]);

/** A job run as an anonymous caller may see it: no paths, no account names. */
export function redactRun(run: JobRun, config: Pick<Config, "warehouseUrl">): JobRun {
  return {
    ...run,
    actor: PUBLIC_ACTORS.has(run.actor) ? run.actor : "an account",
    error: run.error === null ? null : redactText(run.error, config),
  };
}

/**
 * Error text without absolute paths (`/srv/x/data_warehouse.db` → `…/data_warehouse.db`) or
 * account names (`mysql://user@`, MySQL's `'user'@'host'`, the configured warehouse user).
 */
export function redactText(text: string, config: Pick<Config, "warehouseUrl">): string {
  let out = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^@\s/]+@/gi, "$1…@")
    .replace(/'[^'@\s]*'@'/g, "'…'@'")
    .replace(/(^|[\s:'"(=])\/(?!\/)(?:[^\s'"():;,/]*\/)+/g, "$1…/");
  const user = config.warehouseUrl?.user;
  if (user) out = out.replaceAll(user, "…");
  return out;
}

/** Rows per feed table, as the loader keeps them in its bookkeeping: no table is counted. */
export function warehouseRows(warehouse: Sql, config: Config): Promise<Record<string, number>> {
  return rowCounts(warehouse, config.feeds);
}

interface LagResult {
  connected: boolean;
  error?: string;
  byFeed: Map<string, number>;
}

/** Lag of the lake's consumer group per feed, or Kafka shown down after a short wait. */
export async function lagPerFeed(
  options: Pick<StatusOptions, "config" | "kafka" | "kafkaTimeoutMs">,
): Promise<LagResult> {
  const { config, kafka } = options;
  const timeoutMs = options.kafkaTimeoutMs ?? 2000;
  const byFeed = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no answer from ${config.kafka.brokers.join(",")} in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const work = (async () => {
      const topics = new Set(await kafka.listTopics());
      const feeds = config.feeds.filter((f) => topics.has(f.name));
      const committed = await kafka.committedOffsets(
        config.kafka.groupId,
        feeds.map((f) => f.name),
      );
      const ends = await Promise.all(feeds.map((f) => kafka.endOffsets(f.name)));
      feeds.forEach((feed, i) => {
        let lag = 0;
        for (const end of ends[i]) {
          const done = committed.find((c) =>
            c.topic === feed.name && c.partition === end.partition
          );
          lag += Number(BigInt(end.offset) - BigInt(done?.offset ?? "0"));
        }
        byFeed.set(feed.name, Math.max(lag, 0));
      });
    })();
    work.catch(() => {}); // a late failure after the timeout is already reported
    await Promise.race([work, timeout]);
    return { connected: true, byFeed };
  } catch (error) {
    return { connected: false, error: (error as Error).message, byFeed };
  } finally {
    clearTimeout(timer);
  }
}
