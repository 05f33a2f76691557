/**
 * The Kafka part of the typed config: brokers, group, compression, replication and security, with
 * the setting names librdkafka users know. Files named by settings (CA, certificate, key) are
 * read here, so a missing or unreadable one is a ConfigError before anything connects. Secrets
 * (the SASL password, the private key) are not enumerable: they never print with the config.
 */
import { ConfigError } from "../core/errors.ts";
import type { Env } from "./env.ts";

export const COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
export type KafkaCompression = typeof COMPRESSIONS[number];
/** What we produce with when KAFKA_COMPRESSION is unset (see the README, "The client"). */
export const DEFAULT_COMPRESSION: KafkaCompression = "zstd";

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
export type KafkaSecurityProtocol = typeof SECURITY_PROTOCOLS[number];
export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
export type KafkaSaslMechanism = typeof SASL_MECHANISMS[number];

export interface KafkaSasl {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** Secret: not enumerable. */
  readonly password: string;
}

export interface KafkaTls {
  /** PEM text of KAFKA_SSL_CA_FILE; absent: the system's roots. */
  ca?: string;
  caFile?: string;
  /** Mutual TLS: PEM certificate and (secret, not enumerable) key. */
  cert?: string;
  certFile?: string;
  readonly key?: string;
  keyFile?: string;
}

export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  sasl?: KafkaSasl;
  /** Present for SSL and SASL_SSL. */
  tls?: KafkaTls;
}

export interface KafkaSettings {
  brokers: string[];
  groupId: string;
  clientId: string;
  /** Absent: PLAINTEXT. */
  security?: KafkaSecurity;
  /** Codec of everything we produce; absent: DEFAULT_COMPRESSION. */
  compression?: KafkaCompression;
  /** Replication factor of topics we create; absent: min(3, brokers in the cluster). */
  replicationFactor?: number;
  /** min.insync.replicas of topics we create; absent: 2 with ≥ 3 replicas, else 1. */
  minInsyncReplicas?: number;
  /**
   * KAFKA_SESSION_TIMEOUT_MS (librdkafka's session.timeout.ms): how long the group waits for a
   * silent member (a crashed or paused one) before handing its partitions on; absent: 30 s.
   */
  sessionTimeoutMs?: number;
  /**
   * KAFKA_DELIVERY_TIMEOUT_MS (librdkafka's delivery.timeout.ms): how long a plain produce (the
   * API's record posting, `produce`) retries before it fails; absent: about 44 s, enough to ride
   * out a leader change.
   */
  deliveryTimeoutMs?: number;
}

/** KAFKA_* settings other than brokers, group and client id. */
export function parseKafkaSettings(
  env: Env,
  readTextFile: (path: string) => string,
): Pick<
  KafkaSettings,
  | "security"
  | "compression"
  | "replicationFactor"
  | "minInsyncReplicas"
  | "sessionTimeoutMs"
  | "deliveryTimeoutMs"
> {
  return {
    compression: oneOf(env, "KAFKA_COMPRESSION", COMPRESSIONS, DEFAULT_COMPRESSION),
    replicationFactor: optionalCount(env, "KAFKA_REPLICATION_FACTOR"),
    minInsyncReplicas: optionalCount(env, "KAFKA_MIN_INSYNC_REPLICAS"),
    sessionTimeoutMs: optionalMs(env, "KAFKA_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_LIMITS_MS),
    deliveryTimeoutMs: optionalMs(env, "KAFKA_DELIVERY_TIMEOUT_MS", DELIVERY_TIMEOUT_LIMITS_MS),
    security: parseSecurity(env, readTextFile),
  };
}

function parseSecurity(env: Env, readTextFile: (path: string) => string): KafkaSecurity {
  const protocol = oneOf(
    env,
    "KAFKA_SECURITY_PROTOCOL",
    SECURITY_PROTOCOLS,
    "PLAINTEXT",
    (v) => v.toUpperCase(),
  );
  const usesSasl = protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL";
  const usesTls = protocol === "SSL" || protocol === "SASL_SSL";
  const mechanismText = text(env, "KAFKA_SASL_MECHANISM");
  const username = text(env, "KAFKA_SASL_USERNAME");
  const password = env.get("KAFKA_SASL_PASSWORD");
  const files = {
    KAFKA_SSL_CA_FILE: text(env, "KAFKA_SSL_CA_FILE"),
    KAFKA_SSL_CERT_FILE: text(env, "KAFKA_SSL_CERT_FILE"),
    KAFKA_SSL_KEY_FILE: text(env, "KAFKA_SSL_KEY_FILE"),
  };

  if (!usesSasl) {
    const stray = mechanismText ? "KAFKA_SASL_MECHANISM" : username ? "KAFKA_SASL_USERNAME" : "";
    if (stray) {
      throw new ConfigError(
        `${stray} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use SASL ` +
          `(use SASL_SSL or SASL_PLAINTEXT)`,
      );
    }
  }
  if (!usesTls) {
    const stray = Object.entries(files).find(([, v]) => v)?.[0];
    if (stray) {
      throw new ConfigError(
        `${stray} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS ` +
          `(use SSL or SASL_SSL)`,
      );
    }
  }

  const security: KafkaSecurity = { protocol };
  if (usesSasl) {
    const mechanism = oneOf(
      env,
      "KAFKA_SASL_MECHANISM",
      SASL_MECHANISMS,
      undefined,
      (v) => v.toUpperCase(),
    );
    if (!mechanism) {
      throw new ConfigError(
        `KAFKA_SASL_MECHANISM is required with KAFKA_SECURITY_PROTOCOL=${protocol} ` +
          `(${SASL_MECHANISMS.join(", ")})`,
      );
    }
    if (!username) {
      throw new ConfigError(
        `KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM=${mechanism}`,
      );
    }
    if (!password) {
      throw new ConfigError(
        `KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISM=${mechanism}`,
      );
    }
    const sasl = { mechanism, username };
    Object.defineProperty(sasl, "password", { value: password, enumerable: false });
    security.sasl = sasl as KafkaSasl;
  }
  if (usesTls) {
    if (files.KAFKA_SSL_CERT_FILE && !files.KAFKA_SSL_KEY_FILE) {
      throw new ConfigError("KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE (mutual TLS)");
    }
    if (files.KAFKA_SSL_KEY_FILE && !files.KAFKA_SSL_CERT_FILE) {
      throw new ConfigError("KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE (mutual TLS)");
    }
    const tls: Record<string, string | undefined> = {};
    if (files.KAFKA_SSL_CA_FILE) {
      tls.caFile = files.KAFKA_SSL_CA_FILE;
      tls.ca = readPem("KAFKA_SSL_CA_FILE", files.KAFKA_SSL_CA_FILE, "CERTIFICATE", readTextFile);
    }
    if (files.KAFKA_SSL_CERT_FILE && files.KAFKA_SSL_KEY_FILE) {
      tls.certFile = files.KAFKA_SSL_CERT_FILE;
      tls.cert = readPem(
        "KAFKA_SSL_CERT_FILE",
        files.KAFKA_SSL_CERT_FILE,
        "CERTIFICATE",
        readTextFile,
      );
      tls.keyFile = files.KAFKA_SSL_KEY_FILE;
      const key = readPem(
        "KAFKA_SSL_KEY_FILE",
        files.KAFKA_SSL_KEY_FILE,
        "PRIVATE KEY",
        readTextFile,
      );
      Object.defineProperty(tls, "key", { value: key, enumerable: false });
    }
    security.tls = tls as KafkaTls;
  }
  return security;
}

/** The PEM text of `path`, which must hold a `-----BEGIN …${kind}-----` block. */
function readPem(
  setting: string,
  path: string,
  kind: string,
  readTextFile: (path: string) => string,
): string {
  let pem: string;
  try {
    pem = readTextFile(path);
  } catch (error) {
    throw new ConfigError(`${setting} ${path} cannot be read: ${(error as Error).message}`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(pem)) {
    throw new ConfigError(`${setting} ${path} holds no PEM ${kind} block`);
  }
  return pem;
}

function text(env: Env, name: string): string | undefined {
  const value = env.get(name)?.trim();
  return value ? value : undefined;
}

function oneOf<T extends string, D extends T | undefined>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: D,
  normalize: (value: string) => string = (v) => v.toLowerCase(),
): T | D {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const normalized = normalize(value) as T;
  if (!allowed.includes(normalized)) {
    throw new ConfigError(
      `${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return normalized;
}

function optionalCount(env: Env, name: string): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 32) {
    throw new ConfigError(
      `${name} must be a whole number from 1 to 32, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Kafka's own bounds (the brokers' default group.min/max.session.timeout.ms). */
export const SESSION_TIMEOUT_LIMITS_MS = [6000, 1_800_000] as const;
/** At least a second; at most 15 minutes (a send that long is an outage). */
export const DELIVERY_TIMEOUT_LIMITS_MS = [1000, 900_000] as const;

function optionalMs(
  env: Env,
  name: string,
  [min, max]: readonly [number, number],
): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new ConfigError(
      `${name} must be a whole number of milliseconds from ${min} to ${max}, ` +
        `got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
