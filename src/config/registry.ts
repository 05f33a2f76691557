/**
 * The Schema Registry settings (SCHEMA_REGISTRY_URL, _USERNAME, _PASSWORD, _CA_FILE) and the
 * processor's RAW_FORMAT / OUTPUT_FORMAT, validated with the rest of the config before anything
 * connects. A feed in a registry format, or an Avro raw topic or output, without a registry URL
 * is refused here, naming the feed or setting. OUTPUT_FORMAT=avro gives the processor's feeds the
 * format "avro", so the lake decodes what the processor writes.
 */
import type { Feed } from "../contract/feed.ts";
import { ConfigError } from "../core/errors.ts";

import type { Env } from "./env.ts";
import { STATUSES } from "./settings.ts";

/** Where the registry is. `password` and `caCert` are not enumerable, so they never print. */
export interface SchemaRegistrySettings {
  /** Base URL of the Confluent-compatible API, without a trailing slash. */
  url: string;
  username?: string;
  readonly password?: string;
  caFile?: string;
  /** PEM text of SCHEMA_REGISTRY_CA_FILE, read once here. */
  readonly caCert?: string;
}

/** The processor's topic formats: JSON (default) or Avro through the registry. */
export type StreamFormat = "json" | "avro";

export interface RegistryConfig {
  /** The feeds, the processor's with format "avro" when OUTPUT_FORMAT=avro. */
  feeds: Feed[];
  schemaRegistry?: SchemaRegistrySettings;
  /** RAW_FORMAT: how the raw transactions are written (default json). */
  rawFormat: StreamFormat;
  /** OUTPUT_FORMAT: how the processor writes its output topics (default json). */
  outputFormat: StreamFormat;
}

export function parseRegistryConfig(
  env: Env,
  feeds: readonly Feed[],
  read: (path: string) => string,
): RegistryConfig {
  const schemaRegistry = parseRegistrySettings(env, read);
  const rawFormat = parseStreamFormat(env.get("RAW_FORMAT"), "RAW_FORMAT");
  const outputFormat = parseStreamFormat(env.get("OUTPUT_FORMAT"), "OUTPUT_FORMAT");
  if (!schemaRegistry) {
    const needing = feeds.filter((f) => f.format && f.format !== "json");
    if (needing.length > 0) {
      throw new ConfigError(
        `feed ${needing[0].name} has format ${needing[0].format}, which needs ` +
          `SCHEMA_REGISTRY_URL (the Confluent-compatible Schema Registry API)`,
      );
    }
    for (const [name, format] of [["RAW_FORMAT", rawFormat], ["OUTPUT_FORMAT", outputFormat]]) {
      if (format !== "json") {
        throw new ConfigError(`${name}=${format} needs SCHEMA_REGISTRY_URL`);
      }
    }
  }
  return {
    schemaRegistry,
    rawFormat,
    outputFormat,
    feeds: outputFormat === "avro" ? withAvroOutputs(feeds) : [...feeds],
  };
}

/**
 * The feeds the processor writes (OUTPUT_FORMAT applies to them): its derived streams and tables.
 * CURRENCY_RATES, which it only reads, is not one.
 */
export function isProcessorOutput(feedName: string): boolean {
  return PROCESSOR_OUTPUTS.has(feedName);
}

const PROCESSOR_OUTPUTS = new Set([
  "TRANSACTIONS_SECURE",
  "TRANSACTIONS_USD",
  "TRANSACTIONS_BLACKLISTED",
  ...STATUSES.map((status) => `TRANSACTIONS_${status.toUpperCase()}`),
  "USER_SPENDING_BY_TYPE",
  "SPEND_LAST_FIVE_MIN_BY_TYPE",
  "USERS",
]);

/**
 * With OUTPUT_FORMAT=avro the lake reads the processor's feeds as Avro: they take that format
 * here, the one place. A processor feed declared in another registry format is refused.
 */
function withAvroOutputs(feeds: readonly Feed[]): Feed[] {
  return feeds.map((feed) => {
    if (!isProcessorOutput(feed.name)) return feed;
    if (feed.format && feed.format !== "json" && feed.format !== "avro") {
      throw new ConfigError(
        `feed ${feed.name} has format ${feed.format}, but the processor writes it as Avro ` +
          `(OUTPUT_FORMAT=avro); declare it without a format or with "avro"`,
      );
    }
    return { ...feed, format: "avro" };
  });
}

function parseRegistrySettings(
  env: Env,
  read: (path: string) => string,
): SchemaRegistrySettings | undefined {
  const text = nonEmpty(env.get("SCHEMA_REGISTRY_URL"));
  const username = nonEmpty(env.get("SCHEMA_REGISTRY_USERNAME"));
  const password = nonEmpty(env.get("SCHEMA_REGISTRY_PASSWORD"));
  const caFile = nonEmpty(env.get("SCHEMA_REGISTRY_CA_FILE"));
  if (!text) {
    for (
      const [name, value] of [["SCHEMA_REGISTRY_USERNAME", username], [
        "SCHEMA_REGISTRY_PASSWORD",
        password,
      ], ["SCHEMA_REGISTRY_CA_FILE", caFile]]
    ) {
      if (value) throw new ConfigError(`${name} is set but SCHEMA_REGISTRY_URL is not`);
    }
    return undefined;
  }
  const form = "http(s)://HOST[:PORT][/PATH], e.g. http://127.0.0.1:8081";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`SCHEMA_REGISTRY_URL is not a URL; use ${form}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`SCHEMA_REGISTRY_URL must start with http:// or https:// (${form})`);
  }
  // Credentials go in their own settings: a URL is printed in logs and /status.
  if (url.username || url.password) {
    throw new ConfigError(
      "SCHEMA_REGISTRY_URL must not hold credentials; use SCHEMA_REGISTRY_USERNAME and " +
        "SCHEMA_REGISTRY_PASSWORD",
    );
  }
  if (url.search || url.hash) {
    throw new ConfigError(`SCHEMA_REGISTRY_URL takes no ?options or #fragment (${form})`);
  }
  if (password && !username) {
    throw new ConfigError("SCHEMA_REGISTRY_PASSWORD is set but SCHEMA_REGISTRY_USERNAME is not");
  }
  if (caFile && url.protocol !== "https:") {
    throw new ConfigError("SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is not https://");
  }
  let caCert: string | undefined;
  if (caFile) {
    try {
      caCert = read(caFile);
    } catch (error) {
      throw new ConfigError(
        `SCHEMA_REGISTRY_CA_FILE ${caFile} cannot be read: ${(error as Error).message}`,
      );
    }
    if (!caCert.includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigError(`SCHEMA_REGISTRY_CA_FILE ${caFile} holds no PEM certificate`);
    }
  }
  const settings: SchemaRegistrySettings = {
    url: url.href.replace(/\/+$/, ""),
    ...(username ? { username } : {}),
    ...(caFile ? { caFile } : {}),
  };
  if (password !== undefined) {
    Object.defineProperty(settings, "password", { value: password, enumerable: false });
  }
  if (caCert !== undefined) {
    Object.defineProperty(settings, "caCert", { value: caCert, enumerable: false });
  }
  return settings;
}

function parseStreamFormat(value: string | undefined, name: string): StreamFormat {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined || text === "json") return "json";
  if (text === "avro") return "avro";
  throw new ConfigError(`${name} must be json or avro, got ${JSON.stringify(value)}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
