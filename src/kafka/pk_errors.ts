/**
 * The library's failures in our terms: access refused (credentials, TLS trust, protocol mismatch)
 * becomes one KafkaAccessError naming the setting; everything else passes through unchanged for
 * retry.ts to classify. Decided by error class, Kafka error code and TLS error code, never by
 * message text.
 */
import { findErrorBy } from "@platformatic/kafka";
import type { KafkaSettings } from "../config/kafka.ts";
import { errorTree, KafkaAccessError } from "./errors.ts";
import { isTransientKafkaError, rootMessage } from "./retry.ts";
import { UnavailableError } from "../core/errors.ts";

/** node:tls codes for a certificate chain we do not trust or a name that does not match. */
const UNTRUSTED_CERTIFICATE = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function kafkaError(error: unknown, settings: KafkaSettings): unknown {
  if (error instanceof KafkaAccessError) return error;
  const security = settings.security;
  const protocol = security?.protocol ?? "PLAINTEXT";
  const tree = errorTree(error);
  const sasl = tree.find((e) =>
    e.code === "PLT_KFK_AUTHENTICATION" || e.apiId === "SASL_AUTHENTICATION_FAILED" ||
    e.apiId === "ILLEGAL_SASL_STATE" || e.apiId === "UNSUPPORTED_SASL_MECHANISM"
  );
  if (sasl) {
    const user = security?.sasl?.username;
    return user
      ? new KafkaAccessError(
        `Kafka refused the credentials of KAFKA_SASL_USERNAME=${user} ` +
          `(KAFKA_SASL_MECHANISM=${security?.sasl?.mechanism}): check KAFKA_SASL_PASSWORD`,
        "KAFKA_SASL_PASSWORD",
        { cause: error },
      )
      : new KafkaAccessError(
        `Kafka at ${settings.brokers.join(",")} requires SASL authentication: set ` +
          `KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT) and KAFKA_SASL_*`,
        "KAFKA_SECURITY_PROTOCOL",
        { cause: error },
      );
  }
  const tls = tree.find((e) => e.code && UNTRUSTED_CERTIFICATE.has(e.code));
  if (tls) {
    const ca = security?.tls?.caFile;
    return new KafkaAccessError(
      `The TLS certificate of Kafka at ${settings.brokers.join(",")} is not trusted ` +
        `(${tls.code}): ${
          ca ? `it is not signed by the CA in KAFKA_SSL_CA_FILE=${ca}` : "set KAFKA_SSL_CA_FILE"
        } or check the broker's host name`,
      "KAFKA_SSL_CA_FILE",
      { cause: error },
    );
  }
  if (findErrorBy(error as Error, "apiId", "CLUSTER_AUTHORIZATION_FAILED")) {
    return new KafkaAccessError(
      `Kafka refused an operation to ${
        security?.sasl ? `KAFKA_SASL_USERNAME=${security.sasl.username}` : protocol
      }: the cluster's ACLs do not allow it`,
      "KAFKA_SASL_USERNAME",
      { cause: error },
    );
  }
  return error;
}

/**
 * kafkaError, and when a connection failed in a way the library reports without a code (a
 * plaintext client on a TLS port, a TLS client on a plaintext port), a look at the broker's port
 * itself: whether it answers a TLS handshake decides which setting is wrong.
 */
export async function explainedKafkaError(
  error: unknown,
  settings: KafkaSettings,
): Promise<unknown> {
  const typed = kafkaError(error, settings);
  if (typed !== error || !errorTree(error).some((e) => e.code === "PLT_KFK_USER")) return typed;
  const protocol = settings.security?.protocol ?? "PLAINTEXT";
  const expectsTls = protocol === "SSL" || protocol === "SASL_SSL";
  for (const broker of settings.brokers.slice(0, 3)) {
    const tls = await speaksTls(broker);
    if (tls === undefined || tls === expectsTls) continue;
    return new KafkaAccessError(
      tls
        ? `Kafka at ${broker} expects TLS but KAFKA_SECURITY_PROTOCOL=${protocol}: ` +
          `set KAFKA_SECURITY_PROTOCOL=SSL (or SASL_SSL)`
        : `Kafka at ${broker} does not speak TLS but KAFKA_SECURITY_PROTOCOL=${protocol}: ` +
          `check the port in KAFKA_BROKERS or set KAFKA_SECURITY_PROTOCOL=PLAINTEXT ` +
          `(or SASL_PLAINTEXT)`,
      "KAFKA_SECURITY_PROTOCOL",
      { cause: error },
    );
  }
  return error;
}

/** Whether `host:port` completes a TLS handshake (true), refuses it (false), or is not there. */
async function speaksTls(broker: string): Promise<boolean | undefined> {
  const at = broker.lastIndexOf(":");
  const hostname = broker.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(broker.slice(at + 1));
  let conn: Deno.TlsConn | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 3000);
    Deno.unrefTimer(timer);
  });
  const attempt = (async () => {
    try {
      conn = await Deno.connectTls({ hostname, port });
      await conn.handshake();
      return true;
    } catch (error) {
      // A certificate we do not trust still came from a TLS server.
      if (error instanceof Deno.errors.InvalidData) return true;
      if (error instanceof Deno.errors.ConnectionRefused) return undefined;
      return false;
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

/**
 * What a failed call of the library becomes for our callers: access refused as its typed error,
 * an outage as UnavailableError (HTTP 503, retried by retry.ts) naming the brokers, anything
 * else unchanged. The original error is always the cause.
 */
export async function kafkaFailure(error: unknown, settings: KafkaSettings): Promise<unknown> {
  const explained = await explainedKafkaError(error, settings);
  if (explained !== error || error instanceof UnavailableError) return explained;
  if (!isTransientKafkaError(error)) return error;
  return new UnavailableError(
    `Kafka is not reachable at ${settings.brokers.join(",")}: ${rootMessage(error)}`,
    { cause: error },
  );
}
