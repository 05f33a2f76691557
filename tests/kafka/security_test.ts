/**
 * TLS and SASL against a real SASL_SSL listener: each mechanism produces and consumes; a wrong
 * password, an unknown CA and a plaintext client on the TLS port each become one KafkaAccessError
 * naming the setting (a one-shot command exits 3), and no message carries the password.
 *
 * Needs a broker with a SASL_SSL listener: KAFKA_TEST_SASL_SSL_BROKERS (host:port),
 * KAFKA_TEST_SSL_CA_FILE (its CA, PEM), KAFKA_TEST_SASL_USERNAME / KAFKA_TEST_SASL_PASSWORD (a
 * user known to PLAIN and both SCRAM mechanisms).
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { KafkaAccessError } from "../../src/kafka/errors.ts";
import { runMain, testConfig, uniqueName } from "../helpers/env.ts";

const brokers = Deno.env.get("KAFKA_TEST_SASL_SSL_BROKERS");
const caFile = Deno.env.get("KAFKA_TEST_SSL_CA_FILE");
const username = Deno.env.get("KAFKA_TEST_SASL_USERNAME");
const password = Deno.env.get("KAFKA_TEST_SASL_PASSWORD");
const ignore = !(brokers && caFile && username && password);
const why = " (skipped: set KAFKA_TEST_SASL_SSL_BROKERS, KAFKA_TEST_SSL_CA_FILE, " +
  "KAFKA_TEST_SASL_USERNAME, KAFKA_TEST_SASL_PASSWORD for a SASL_SSL listener)";

function settings(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers!,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: username!,
    KAFKA_SASL_PASSWORD: password!,
    KAFKA_SSL_CA_FILE: caFile!,
    ...overrides,
  };
}

function client(env: Record<string, string>) {
  return connectKafka(loadConfig({ get: (name) => env[name] }), silentLogger);
}

async function refusal(env: Record<string, string>): Promise<KafkaAccessError> {
  const kafka = client(env);
  try {
    await kafka.listTopics();
  } catch (error) {
    assert.ok(error instanceof KafkaAccessError, String(error));
    return error;
  } finally {
    await kafka.close();
  }
  throw new Error("Kafka accepted the connection");
}

for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
  Deno.test({
    name: `security: SASL_SSL with ${mechanism} produces and consumes${ignore ? why : ""}`,
    ignore,
    fn: async () => {
      const kafka = client(settings({ KAFKA_SASL_MECHANISM: mechanism }));
      const topic = uniqueName("t_sasl");
      try {
        await kafka.ensureTopics([{ topic }]);
        const producer = await kafka.producer();
        await producer.send([{ topic, key: "k", value: mechanism }]);
        const seen: string[] = [];
        const handle = await kafka.consume({
          groupId: uniqueName("g").toLowerCase(),
          topics: [topic],
          stopWhenCaughtUp: true,
          onBatch: (batch) => {
            seen.push(...batch.records.map((r) => new TextDecoder().decode(r.value!)));
            return Promise.resolve();
          },
        });
        await handle.done;
        assert.deepEqual(seen, [mechanism]);
      } finally {
        await kafka.close();
      }
    },
  });
}

Deno.test({
  name:
    `security: wrong password, unknown CA, plaintext on the TLS port: one error naming the setting${
      ignore ? why : ""
    }`,
  ignore,
  fn: async () => {
    const wrong = "wrong-password-" + crypto.randomUUID();
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      const error = await refusal(
        settings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_PASSWORD: wrong }),
      );
      assert.equal(error.setting, "KAFKA_SASL_PASSWORD");
      assert.match(error.message, new RegExp(`KAFKA_SASL_USERNAME=${username}`));
      assert.ok(!error.message.includes(wrong));
    }

    const other = await Deno.makeTempFile({ suffix: ".pem" });
    const ca = await new Deno.Command("openssl", {
      args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other"]
        .concat(["-keyout", `${other}.key`, "-out", other]),
      stderr: "null",
    }).output();
    assert.equal(ca.code, 0);
    const untrusted = await refusal(settings({ KAFKA_SSL_CA_FILE: other }));
    assert.equal(untrusted.setting, "KAFKA_SSL_CA_FILE");

    const plaintext = await refusal({ KAFKA_BROKERS: brokers! });
    assert.equal(plaintext.setting, "KAFKA_SECURITY_PROTOCOL");
    assert.match(plaintext.message, /expects TLS/);
  },
});

Deno.test({
  name: `security: consume --once with a wrong password exits 3 with one line${ignore ? why : ""}`,
  ignore,
  fn: async () => {
    const config = await testConfig();
    const wrong = "wrong-password-" + crypto.randomUUID();
    const run = await runMain(["consume", "--once", "--feeds", config.feeds[0].name], {
      ...settings({ KAFKA_SASL_PASSWORD: wrong }),
      KAFKA_GROUP_ID: config.kafka.groupId,
      DATA_LAKE_DIR: config.dataLakeDir,
      WAREHOUSE_PATH: config.warehousePath,
      LOG_FORMAT: "json",
    });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /check KAFKA_SASL_PASSWORD/);
    assert.ok(!(run.stdout + run.stderr).includes(wrong));
  },
});
