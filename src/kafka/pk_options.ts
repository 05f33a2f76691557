/**
 * What every @platformatic/kafka client here is built with: brokers, TLS and SASL from the typed
 * config, timeouts, and minimal retries of its own (retry.ts and supervise.ts own backoff: the
 * library only smooths over a single lost request or a rebalance round).
 */
import { Buffer } from "node:buffer";
import type { BaseOptions } from "@platformatic/kafka";
import type { KafkaSettings } from "../config/kafka.ts";

/** The library's own attempts per request, beyond the first. */
export const CLIENT_RETRIES = 2;
const CLIENT_RETRY_DELAY_MS = 250;

export function baseOptions(settings: KafkaSettings, role: string): BaseOptions {
  const options: BaseOptions = {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers: settings.brokers,
    connectTimeout: 5000,
    timeout: 30000,
    retries: CLIENT_RETRIES,
    retryDelay: CLIENT_RETRY_DELAY_MS,
    // Topics are created by ensureTopics with our replication settings, never implicitly.
    autocreateTopics: false,
  };
  const security = settings.security;
  if (security?.tls) {
    const { ca, cert, key } = security.tls;
    options.tls = {
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      // Host names are verified (node's default checkServerIdentity): never turned off.
      rejectUnauthorized: true,
    };
  }
  if (security?.sasl) {
    const { mechanism, username } = security.sasl;
    const sasl = security.sasl;
    // A function: the password is read when a connection authenticates, never copied around.
    options.sasl = { mechanism, username, password: () => sasl.password };
  }
  return options;
}

const decoder = new TextDecoder();

/** Header values as strings (what the product's records carry). */
export function decodeHeaders(
  headers: [Buffer | null, Buffer | null][],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === null || value === null) continue;
    out[decoder.decode(name)] = decoder.decode(value);
  }
  return out;
}

export function toBuffer(text: string | null): Buffer | undefined {
  return text === null ? undefined : Buffer.from(text, "utf8");
}
