/**
 * The Kafka settings of the typed config (librdkafka's names): every mistake is one ConfigError
 * naming the setting, before anything connects; secrets never print with the config.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { produceRetries } from "../../src/kafka/pk_producer.ts";
import { ConfigError } from "../../src/core/errors.ts";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const FILES: Record<string, string> = {
  "/ca.pem": PEM_CERT,
  "/client.pem": PEM_CERT,
  "/client.key": PEM_KEY,
  "/not-pem.txt": "hello",
};

function load(env: Record<string, string>) {
  return loadConfig({ get: (name) => env[name] }, {
    readTextFile: (path) => {
      if (path in FILES) return FILES[path];
      throw new Deno.errors.NotFound(`No such file or directory: ${path}`);
    },
  });
}

function refused(env: Record<string, string>, setting: string, pattern?: RegExp) {
  assert.throws(() => load(env), (error: Error) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(error.message.startsWith(setting), error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("kafka settings: defaults are PLAINTEXT, zstd, replication from the cluster", () => {
  const { kafka } = load({});
  assert.deepEqual(kafka.security, { protocol: "PLAINTEXT" });
  assert.equal(kafka.compression, "zstd");
  assert.equal(kafka.replicationFactor, undefined);
  assert.equal(kafka.minInsyncReplicas, undefined);
  assert.equal(kafka.sessionTimeoutMs, undefined);
  assert.equal(kafka.deliveryTimeoutMs, undefined);
});

Deno.test("kafka settings: SASL_SSL with SCRAM, a CA file and mutual TLS", () => {
  const { kafka } = load({
    KAFKA_SECURITY_PROTOCOL: "sasl_ssl",
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "lake",
    KAFKA_SASL_PASSWORD: "s3cret-pw",
    KAFKA_SSL_CA_FILE: "/ca.pem",
    KAFKA_SSL_CERT_FILE: "/client.pem",
    KAFKA_SSL_KEY_FILE: "/client.key",
    KAFKA_COMPRESSION: "ZSTD",
    KAFKA_REPLICATION_FACTOR: "3",
    KAFKA_MIN_INSYNC_REPLICAS: "2",
    KAFKA_SESSION_TIMEOUT_MS: "45000",
    KAFKA_DELIVERY_TIMEOUT_MS: "120000",
  });
  assert.equal(kafka.security?.protocol, "SASL_SSL");
  assert.equal(kafka.security?.sasl?.mechanism, "SCRAM-SHA-512");
  assert.equal(kafka.security?.sasl?.username, "lake");
  assert.equal(kafka.security?.sasl?.password, "s3cret-pw");
  assert.equal(kafka.security?.tls?.ca, PEM_CERT);
  assert.equal(kafka.security?.tls?.key, PEM_KEY);
  assert.equal(kafka.compression, "zstd");
  assert.equal(kafka.replicationFactor, 3);
  assert.equal(kafka.minInsyncReplicas, 2);
  assert.equal(kafka.sessionTimeoutMs, 45000);
  assert.equal(kafka.deliveryTimeoutMs, 120000);
  // Secrets never print with the config.
  const printed = JSON.stringify(kafka) + Deno.inspect(kafka, { depth: 10 });
  assert.ok(!printed.includes("s3cret-pw"), printed);
  assert.ok(!printed.includes("PRIVATE KEY"), printed);
});

Deno.test("kafka settings: each mistake is one ConfigError naming the setting", () => {
  refused({ KAFKA_SECURITY_PROTOCOL: "TLS" }, "KAFKA_SECURITY_PROTOCOL", /PLAINTEXT, SSL/);
  refused({ KAFKA_SASL_MECHANISM: "PLAIN" }, "KAFKA_SASL_MECHANISM", /does not use SASL/);
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SASL_USERNAME: "u" },
    "KAFKA_SASL_USERNAME",
    /does not use SASL/,
  );
  refused({ KAFKA_SSL_CA_FILE: "/ca.pem" }, "KAFKA_SSL_CA_FILE", /does not use TLS/);
  refused({ KAFKA_SECURITY_PROTOCOL: "SASL_SSL" }, "KAFKA_SASL_MECHANISM", /is required/);
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SASL_SSL", KAFKA_SASL_MECHANISM: "GSSAPI" },
    "KAFKA_SASL_MECHANISM",
    /SCRAM-SHA-256/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT", KAFKA_SASL_MECHANISM: "PLAIN" },
    "KAFKA_SASL_USERNAME",
    /is required/,
  );
  refused(
    {
      KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
      KAFKA_SASL_MECHANISM: "PLAIN",
      KAFKA_SASL_USERNAME: "u",
    },
    "KAFKA_SASL_PASSWORD",
    /is required/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: "/missing.pem" },
    "KAFKA_SSL_CA_FILE",
    /cannot be read/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: "/not-pem.txt" },
    "KAFKA_SSL_CA_FILE",
    /no PEM CERTIFICATE/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CERT_FILE: "/client.pem" },
    "KAFKA_SSL_CERT_FILE",
    /without KAFKA_SSL_KEY_FILE/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_KEY_FILE: "/client.key" },
    "KAFKA_SSL_KEY_FILE",
    /without KAFKA_SSL_CERT_FILE/,
  );
  refused({ KAFKA_COMPRESSION: "brotli" }, "KAFKA_COMPRESSION", /none, gzip, snappy, lz4, zstd/);
  refused({ KAFKA_REPLICATION_FACTOR: "0" }, "KAFKA_REPLICATION_FACTOR");
  refused({ KAFKA_MIN_INSYNC_REPLICAS: "two" }, "KAFKA_MIN_INSYNC_REPLICAS");
  // Outside Kafka's own bounds (6 s to 30 min), or not milliseconds.
  for (const bad of ["5999", "1800001", "30s", "6e3", "-6000"]) {
    refused({ KAFKA_SESSION_TIMEOUT_MS: bad }, "KAFKA_SESSION_TIMEOUT_MS", /6000 to 1800000/);
  }
  for (const bad of ["999", "900001", "5s", "-1"]) {
    refused({ KAFKA_DELIVERY_TIMEOUT_MS: bad }, "KAFKA_DELIVERY_TIMEOUT_MS", /1000 to 900000/);
  }
});

Deno.test("kafka settings: KAFKA_DELIVERY_TIMEOUT_MS is the plain producer's retry budget", () => {
  // Unset: 24 retries (250 ms, 500 ms, 1 s, then 2 s each: about 44 s).
  assert.equal(produceRetries(undefined), 24);
  assert.equal(produceRetries(43_750), 24);
  // The retries whose waits fit: 250 + 500 + 1000 ms by 3 s, none under the first wait.
  assert.equal(produceRetries(3000), 3);
  assert.equal(produceRetries(1000), 2);
  assert.ok(produceRetries(120_000) > 24);
});
