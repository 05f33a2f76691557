/**
 * The one typed config object, built from settings.ts, FEEDS_FILE and the environment, and
 * validated once, before anything connects. Every mistake is one ConfigError naming the setting.
 */
import { ConfigError, UsageError } from "../core/errors.ts";
import { DEFAULT_TIME_WINDOW, TIME_WINDOW_LIMITS, type TimeWindow } from "../contract/time.ts";
import { nextRun } from "./cron.ts";
import {
  type Feed,
  type FeedDeclaration,
  inDependencyOrder,
  validateFeed,
  validateFeedSet,
} from "./feeds.ts";
import { type KafkaSettings, parseKafkaSettings } from "./kafka.ts";
import { DEFAULTS, FEEDS } from "./settings.ts";
import type { Env } from "./env.ts";
import { parseRegistryConfig, type RegistryConfig } from "./registry.ts";

export type { KafkaSettings } from "./kafka.ts";

export type { Env } from "./env.ts";

export interface Config extends RegistryConfig {
  kafka: KafkaSettings;
  dataLakeDir: string;
  warehousePath: string;
  /** WAREHOUSE_URL: the MariaDB/MySQL warehouse; absent means SQLite at warehousePath. */
  warehouseUrl?: MysqlTarget;
  port: number;
  pipelineSchedule: string;
  retentionDays: number;
  /** LOADER_BATCH_ROWS: fixed lines per load transaction (`load` and serve's schedule alike);
   * absent means the loader sizes batches itself. */
  loaderBatchRows?: number;
  /** HMAC key for pseudonymization; absent means the processor refuses to start. Secret. */
  anonymizationKey?: string;
  /** Bootstraps an admin account for the API. Secret. */
  adminToken?: string;
  rawTopic: string;
  rejectedTopic: string;
  blacklist: { userIds: string[]; countries: string[] };
  /** Accepted event times of records from outside (EVENT_TIME_YEARS, e.g. "1970-2200"). */
  timeWindow: TimeWindow;
  /** All feeds, in foreign-key dependency order (referenced feeds first). */
  feeds: Feed[];
  /** Where the extra feeds came from, if any. */
  feedsFile?: string;
  processor: ProcessorConfig;
  /**
   * ONCE_OUTAGE_SECONDS: how long one-shot commands (`--once`, `produce --count`) wait out a
   * Kafka or Schema Registry outage before they give up with its cause (exit 1).
   */
  onceOutageMs: number;
}

/** The stream processor's own settings (PROCESSOR_*). */
export interface ProcessorConfig {
  /**
   * PROCESSOR_STATE_DIR: local snapshots of the state of the partitions an instance owns, with
   * the changelog offsets they cover (Kafka Streams' state dir); a restart replays the changelog
   * only from there. One folder per consumer group inside; instances on one machine may share it.
   */
  stateDir: string;
  /** PROCESSOR_SNAPSHOT_SECONDS: how often a partition's snapshot is rewritten while it changes. */
  snapshotIntervalMs: number;
  /**
   * PROCESSOR_TOPIC_PREFIX: prepended to every feed topic the processor reads or writes (default
   * none). The lake reads feeds by their own names, so this only runs a processor apart from the
   * product's feeds (tests and benchmarks on a shared broker).
   */
  topicPrefix: string;
}

/** Where the MariaDB/MySQL warehouse is. `password` is not enumerable, so it never prints. */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  readonly password: string;
}

export interface LoadConfigOptions {
  /** Reads FEEDS_FILE; injectable for tests. */
  readTextFile?: (path: string) => string;
  /** Feeds declared in code; defaults to settings.ts. */
  baseFeeds?: FeedDeclaration[];
}

export function loadConfig(env: Env = Deno.env, options: LoadConfigOptions = {}): Config {
  const read = options.readTextFile ?? ((path: string) => Deno.readTextFileSync(path));
  const feedsFile = nonEmpty(env.get("FEEDS_FILE"));
  const timeWindow = parseTimeWindow(env.get("EVENT_TIME_YEARS"));
  const feeds = buildFeeds(
    options.baseFeeds ?? FEEDS,
    feedsFile ? readFeedsFile(feedsFile, read) : [],
    timeWindow,
  );

  return {
    kafka: {
      brokers: parseBrokers(env.get("KAFKA_BROKERS") ?? DEFAULTS.kafkaBrokers),
      groupId: nonEmpty(env.get("KAFKA_GROUP_ID")) ?? DEFAULTS.kafkaGroupId,
      clientId: DEFAULTS.kafkaClientId,
      ...parseKafkaSettings(env, read),
    },
    dataLakeDir: nonEmpty(env.get("DATA_LAKE_DIR")) ?? DEFAULTS.dataLakeDir,
    warehousePath: nonEmpty(env.get("WAREHOUSE_PATH")) ?? DEFAULTS.warehousePath,
    warehouseUrl: parseWarehouseUrl(env.get("WAREHOUSE_URL"), env.get("WAREHOUSE_PASSWORD")),
    port: parseInteger(env.get("PORT"), "PORT", DEFAULTS.port, 0, 65535),
    pipelineSchedule: parseSchedule(env.get("PIPELINE_SCHEDULE")),
    retentionDays: parseInteger(
      env.get("RETENTION_DAYS"),
      "RETENTION_DAYS",
      DEFAULTS.retentionDays,
      1,
      36500,
    ),
    loaderBatchRows: nonEmpty(env.get("LOADER_BATCH_ROWS")) === undefined
      ? undefined
      : parseInteger(env.get("LOADER_BATCH_ROWS"), "LOADER_BATCH_ROWS", 0, 1, 1_000_000),
    anonymizationKey: nonEmpty(env.get("ANONYMIZATION_KEY")),
    adminToken: parseAdminToken(env.get("ADMIN_TOKEN")),
    // Overridable so tests and benchmarks can run the processor on topics of their own.
    rawTopic: nonEmpty(env.get("RAW_TOPIC")) ?? DEFAULTS.rawTopic,
    rejectedTopic: nonEmpty(env.get("REJECTED_TOPIC")) ?? DEFAULTS.rejectedTopic,
    blacklist: {
      userIds: parseList(env.get("BLACKLIST_USER_IDS")) ?? [...DEFAULTS.blacklistUserIds],
      countries: parseList(env.get("BLACKLIST_COUNTRIES")) ?? [...DEFAULTS.blacklistCountries],
    },
    timeWindow,
    feedsFile,
    processor: parseProcessorConfig(env),
    onceOutageMs: 1000 * parseInteger(
      env.get("ONCE_OUTAGE_SECONDS"),
      "ONCE_OUTAGE_SECONDS",
      DEFAULTS.onceOutageSeconds,
      1,
      86400,
    ),
    // Schema Registry (SCHEMA_REGISTRY_*), RAW_FORMAT and OUTPUT_FORMAT: src/config/registry.ts;
    // it also gives `feeds` (the processor's are Avro with OUTPUT_FORMAT=avro).
    ...parseRegistryConfig(env, feeds, read),
  };
}

function parseProcessorConfig(env: Env): ProcessorConfig {
  const topicPrefix = nonEmpty(env.get("PROCESSOR_TOPIC_PREFIX")) ?? "";
  if (!/^[A-Za-z0-9._-]*$/.test(topicPrefix)) {
    throw new ConfigError(
      `PROCESSOR_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (Kafka topic ` +
        `characters), got ${JSON.stringify(topicPrefix)}`,
    );
  }
  return {
    stateDir: nonEmpty(env.get("PROCESSOR_STATE_DIR")) ?? DEFAULTS.processorStateDir,
    snapshotIntervalMs: 1000 * parseInteger(
      env.get("PROCESSOR_SNAPSHOT_SECONDS"),
      "PROCESSOR_SNAPSHOT_SECONDS",
      DEFAULTS.processorSnapshotSeconds,
      1,
      86400,
    ),
    topicPrefix,
  };
}

/** Code feeds, then FEEDS_FILE feeds: a file feed with the same name replaces the code one. */
export function buildFeeds(
  base: FeedDeclaration[],
  extra: unknown[],
  timeWindow: TimeWindow = DEFAULT_TIME_WINDOW,
): Feed[] {
  const byName = new Map<string, Feed>();
  base.forEach((decl, i) => {
    const feed = validateFeed(decl, `settings.ts feeds[${i}]`);
    byName.set(feed.name, feed);
  });
  const fromFile = new Set<string>();
  extra.forEach((decl, i) => {
    const feed = validateFeed(decl, `FEEDS_FILE feeds[${i}]`);
    if (fromFile.has(feed.name)) {
      throw new ConfigError(`FEEDS_FILE feeds[${i}]: feed ${feed.name} is declared twice`);
    }
    fromFile.add(feed.name);
    byName.set(feed.name, feed);
  });
  const feeds = [...byName.values()].map((feed) => ({ ...feed, timeWindow }));
  validateFeedSet(feeds);
  return inDependencyOrder(feeds);
}

function readFeedsFile(path: string, read: (path: string) => string): unknown[] {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigError(`FEEDS_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`FEEDS_FILE ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const feeds = (parsed as { feeds?: unknown })?.feeds;
  if (typeof parsed !== "object" || parsed === null || !Array.isArray(feeds)) {
    throw new ConfigError(`FEEDS_FILE ${path} must be an object with a "feeds" list`);
  }
  return feeds;
}

/** Finds a feed by name or returns undefined; names are case-sensitive. */
export function findFeed(config: Pick<Config, "feeds">, name: string): Feed | undefined {
  return config.feeds.find((feed) => feed.name === name);
}

/**
 * The feeds named in `names`, in config (dependency) order; all of them when `names` is absent or
 * empty. Unknown names are one UsageError: `unknown(names)` says which, in the caller's words,
 * and the known feeds follow.
 */
export function selectFeeds(
  config: Pick<Config, "feeds">,
  names: readonly string[] | undefined,
  unknown: (names: string[]) => string,
): Feed[] {
  if (!names || names.length === 0) return [...config.feeds];
  const missing = names.filter((name) => !findFeed(config, name));
  if (missing.length > 0) {
    throw new UsageError(
      `${unknown(missing)} (known: ${config.feeds.map((f) => f.name).join(", ")})`,
    );
  }
  return config.feeds.filter((feed) => names.includes(feed.name));
}

/** A `--feeds A,B` value as feed names, blanks dropped. */
export function feedList(value: string): string[] {
  return value.split(",").map((name) => name.trim()).filter(Boolean);
}

/** Retention of a feed in days: its own override, else the global setting. */
export function retentionOf(config: Pick<Config, "retentionDays">, feed: Feed): number {
  return feed.retentionDays ?? config.retentionDays;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseBrokers(value: string): string[] {
  const brokers = value.split(",").map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) {
    throw new ConfigError("KAFKA_BROKERS is empty; use host:port[,host:port]");
  }
  for (const broker of brokers) {
    const port = Number(/:(\d{1,5})$/.exec(broker)?.[1]);
    if (!/^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$/.test(broker) || port < 1 || port > 65535) {
      throw new ConfigError(`KAFKA_BROKERS: ${JSON.stringify(broker)} is not host:port`);
    }
  }
  return brokers;
}

/**
 * `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (mariadb:// too); the password may come from
 * WAREHOUSE_PASSWORD instead. Error messages never repeat the URL, which may hold the password.
 */
export function parseWarehouseUrl(
  value: string | undefined,
  passwordEnv?: string,
): MysqlTarget | undefined {
  const text = nonEmpty(value);
  if (!text) return undefined;
  const form = "mysql://USER:PASSWORD@HOST:PORT/DATABASE";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`WAREHOUSE_URL is not a URL; use ${form}`);
  }
  if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
    throw new ConfigError(`WAREHOUSE_URL must start with mysql:// (${form})`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new ConfigError(`WAREHOUSE_URL needs a database name (letters, digits, _) (${form})`);
  }
  const user = decodeURIComponent(url.username);
  if (!user) throw new ConfigError(`WAREHOUSE_URL needs a user (${form})`);
  if (!url.hostname) throw new ConfigError(`WAREHOUSE_URL needs a host (${form})`);
  if (url.search || url.hash) {
    throw new ConfigError(`WAREHOUSE_URL takes no ?options or #fragment (${form})`);
  }
  const port = url.port === "" ? 3306 : Number(url.port);
  const target = { host: url.hostname.replace(/^\[|\]$/g, ""), port, user, database };
  const password = url.password ? decodeURIComponent(url.password) : nonEmpty(passwordEnv) ?? "";
  Object.defineProperty(target, "password", { value: password, enumerable: false });
  return target as MysqlTarget;
}

function parseInteger(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value.trim() === "") return fallback;
  // Plain decimal digits only: Number() would also take "0x50", "1e3" or "12.0".
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((v) => v.trim()).filter(Boolean);
}

/**
 * Five cron fields, checked by the same parser that /status uses to show the next run, and
 * refused when they never fire (Deno.cron panics on those).
 */
function parseSchedule(value: string | undefined): string {
  const schedule = nonEmpty(value) ?? DEFAULTS.pipelineSchedule;
  try {
    nextRun(schedule);
  } catch (error) {
    throw new ConfigError(
      `PIPELINE_SCHEDULE must be a cron expression of five fields (e.g. "*/10 * * * *"), got ${
        JSON.stringify(schedule)
      }: ${(error as Error).message}`,
    );
  }
  return schedule;
}

/** Longest ADMIN_TOKEN accepted: it travels in an Authorization header. */
export const MAX_TOKEN_LENGTH = 512;

/**
 * ADMIN_TOKEN as it will be compared: printable ASCII without spaces (what a Bearer header can
 * carry), at most MAX_TOKEN_LENGTH characters. Anything else could never authenticate, and
 * storing it would lock the previous admin token out.
 */
function parseAdminToken(value: string | undefined): string | undefined {
  const token = nonEmpty(value);
  if (token === undefined) return undefined;
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new ConfigError(
      `ADMIN_TOKEN is ${token.length} characters long; at most ${MAX_TOKEN_LENGTH} are accepted`,
    );
  }
  if (!/^[\x21-\x7E]+$/.test(token)) {
    throw new ConfigError(
      "ADMIN_TOKEN must be printable ASCII without spaces or tabs (it is sent in an " +
        "Authorization header)",
    );
  }
  return token;
}

/** EVENT_TIME_YEARS "FROM-TO": the UTC years an event time may fall in (default 1970-2200). */
function parseTimeWindow(value: string | undefined): TimeWindow {
  const text = nonEmpty(value);
  if (text === undefined) return DEFAULT_TIME_WINDOW;
  const m = /^(\d{1,4})\s*-\s*(\d{1,4})$/.exec(text);
  const window = m ? { minYear: Number(m[1]), maxYear: Number(m[2]) } : undefined;
  if (
    !window || window.minYear > window.maxYear || window.minYear < TIME_WINDOW_LIMITS.minYear ||
    window.maxYear > TIME_WINDOW_LIMITS.maxYear
  ) {
    throw new ConfigError(
      `EVENT_TIME_YEARS must be two years FROM-TO between ${TIME_WINDOW_LIMITS.minYear} and ` +
        `${TIME_WINDOW_LIMITS.maxYear} (e.g. "1970-2200"), got ${JSON.stringify(text)}`,
    );
  }
  return window;
}
