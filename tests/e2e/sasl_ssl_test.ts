/**
 * The product over SASL_SSL (issue 16, item 2), against the listener scripts/kafka.sh starts
 * (KAFKA_TEST_SASL_*): produce, process, consume and serve with each mechanism, every record
 * checked by a client we did not write; wrong credentials, an unknown CA and a plaintext client
 * on the TLS port give exit 3 and one line naming the setting; serve stays up, shows the cause,
 * and recovers once the broker learns the user. No secret ever appears in any output.
 */
import assert from "node:assert/strict";
import {
  countIds,
  lakeFeedRecords,
  MECHANISMS,
  needs,
  readTopic,
  SASL,
  saslSettings,
  setScramUser,
  unknownCa,
} from "../helpers/brokers.ts";
import { runMain, tempDir, uniqueName } from "../helpers/env.ts";
import { startServe, waitFor } from "./service_helpers.ts";

const SECURE = "TRANSACTIONS_SECURE";

/** A fresh lake, warehouse, group, raw topic and pseudonymization key. */
async function freshEnv(): Promise<Record<string, string>> {
  const root = await tempDir("e2e-sasl-");
  return {
    KAFKA_GROUP_ID: uniqueName("sasl").toLowerCase(),
    DATA_LAKE_DIR: `${root}/lake`,
    WAREHOUSE_PATH: `${root}/warehouse.db`,
    ANONYMIZATION_KEY: uniqueName("key"),
    PIPELINE_SCHEDULE: "0 0 1 1 *",
    RAW_TOPIC: uniqueName("raw").toLowerCase(),
    REJECTED_TOPIC: uniqueName("rejected").toLowerCase(),
  };
}

const randomSeed = () => String(Math.floor(Math.random() * 2 ** 31));

function assertNoSecret(text: string, ...secrets: string[]) {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), "a password appears in the output");
  }
}

async function mustRun(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runMain(args, env);
  const output = result.stdout + result.stderr;
  assert.equal(result.code, 0, `${args.join(" ")} failed:\n${output}`);
  return output;
}

/** TRANSACTION_IDs of the raw records, read back by an outside client. */
async function rawIds(env: Record<string, string>): Promise<string[]> {
  const raw = await readTopic(env.RAW_TOPIC, env);
  return raw.map((r) => String(JSON.parse(r.value!).TRANSACTION_ID));
}

for (const mechanism of MECHANISMS) {
  Deno.test({
    ...needs(
      "sasl",
      `SASL_SSL with ${mechanism}: produce, process, consume and serve; an outside ` +
        `client reads every record exactly once`,
    ),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const env: Record<string, string> = { ...await freshEnv(), ...saslSettings(mechanism) };
      const password = env.KAFKA_SASL_PASSWORD;
      const outputs: string[] = [];
      try {
        outputs.push(
          await mustRun(["produce", "--count", "40", "--users", "8", "--seed", randomSeed()], env),
        );
        const ids = await rawIds(env);
        assert.equal(ids.length, 40, "produce wrote 40 raw records");

        outputs.push(await mustRun(["process", "--once"], env));
        const secure = (await readTopic(SECURE, env)).map((r) => JSON.parse(r.value!));
        assert.deepEqual(countIds(ids, secure), { missing: [], doubled: [] }, "in " + SECURE);

        outputs.push(await mustRun(["consume", "--once"], env));
        const lake = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
        assert.deepEqual(countIds(ids, lake), { missing: [], doubled: [] }, "in the lake");

        // serve picks up where the one-shot commands stopped: 25 more, through its processor.
        outputs.push(
          await mustRun(["produce", "--count", "25", "--users", "8", "--seed", randomSeed()], env),
        );
        const all = await rawIds(env);
        assert.equal(all.length, 65);
        const served = await startServe([], env);
        try {
          await waitFor("every raw record in the lake", async () => {
            const records = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
            return countIds(all, records).missing.length === 0 ? true : undefined;
          }, 120_000);
          const status = await (await fetch(served.url("/status"))).json();
          assert.equal(status.kafka.connected, true, JSON.stringify(status.kafka));
          assertNoSecret(JSON.stringify(status), password);
        } finally {
          assert.equal(await served.stop(), 0, served.output.join("\n"));
          outputs.push(served.output.join("\n"));
        }
        const lakeAfter = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
        assert.deepEqual(countIds(all, lakeAfter), { missing: [], doubled: [] });
        const secureAfter = (await readTopic(SECURE, env)).map((r) => JSON.parse(r.value!));
        assert.deepEqual(countIds(all, secureAfter), { missing: [], doubled: [] });
        assertNoSecret(outputs.join("\n"), password);
      } finally {
        await Deno.remove(env.DATA_LAKE_DIR.replace(/\/lake$/, ""), { recursive: true })
          .catch(() => {});
      }
    },
  });
}

Deno.test({
  ...needs(
    "sasl",
    "SASL_SSL: wrong password, unknown user, unknown CA, plaintext on the TLS port and " +
      "TLS on the plaintext port: one-shot commands exit 3 with one line naming the setting",
  ),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const base = await freshEnv();
    const dir = base.DATA_LAKE_DIR.replace(/\/lake$/, "");
    const wrong = `wrong-${crypto.randomUUID()}`;
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        "wrong SCRAM-SHA-256 password",
        { ...saslSettings("SCRAM-SHA-256"), KAFKA_SASL_PASSWORD: wrong },
        /KAFKA_SASL_(USERNAME|PASSWORD)/,
      ],
      [
        "wrong PLAIN password",
        { ...saslSettings("PLAIN"), KAFKA_SASL_PASSWORD: wrong },
        /KAFKA_SASL_(USERNAME|PASSWORD)/,
      ],
      [
        "unknown SCRAM-SHA-512 user",
        { ...saslSettings("SCRAM-SHA-512"), KAFKA_SASL_USERNAME: uniqueName("nobody") },
        /KAFKA_SASL_(USERNAME|PASSWORD)/,
      ],
      [
        "unknown CA",
        { ...saslSettings("SCRAM-SHA-512"), KAFKA_SSL_CA_FILE: await unknownCa(dir) },
        /KAFKA_SSL_CA_FILE/,
      ],
      [
        "plaintext client on the TLS port",
        { KAFKA_BROKERS: SASL!.brokers, KAFKA_SECURITY_PROTOCOL: "PLAINTEXT" },
        /KAFKA_SECURITY_PROTOCOL/,
      ],
      [
        "TLS client on the plaintext port",
        { ...saslSettings("SCRAM-SHA-512"), KAFKA_BROKERS: SASL!.plaintext },
        /KAFKA_SECURITY_PROTOCOL/,
      ],
    ];
    const commands = [["consume", "--once"], ["process", "--once"], ["produce", "--count", "1"]];
    const problems: string[] = [];
    try {
      for (const [what, settings, names] of cases) {
        const results = await Promise.all(
          commands.map((args) => runMain(args, { ...base, ...settings })),
        );
        results.forEach((result, i) => {
          const label = `${what}, ${commands[i].join(" ")}`;
          const output = result.stdout + result.stderr;
          const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
          if (result.code !== 3) problems.push(`${label}: exit ${result.code}: ${errors}`);
          else if (errors.length !== 1) problems.push(`${label}: ${errors.length} error lines`);
          else if (!names.test(errors[0])) problems.push(`${label}: ${errors[0]}`);
          if (output.includes(wrong) || output.includes(SASL!.password)) {
            problems.push(`${label}: a password appears in the output`);
          }
        });
      }
      // Every case and command checked before failing, so one run shows them all.
      assert.deepEqual(problems, []);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  ...needs(
    "sasl",
    "SASL_SSL: serve with a user the broker does not know keeps its API up, shows the " +
      "cause in /status, and recovers once the user is created",
  ),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const user = uniqueName("late").toLowerCase();
    const password = crypto.randomUUID().replaceAll("-", "");
    const env: Record<string, string> = {
      ...await freshEnv(),
      ...saslSettings("SCRAM-SHA-512"),
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password,
    };
    const served = await startServe([], env);
    let exited: number | null = null;
    void served.child.status.then((s) => (exited = s.code));
    try {
      const refused = await waitFor("/status to show the refused login", async () => {
        const status = await (await fetch(served.url("/status"))).json();
        return status.kafka?.error ? status : undefined;
      }, 90_000);
      assert.equal(refused.kafka.connected, false);
      assert.match(refused.kafka.error, /KAFKA_SASL_(USERNAME|PASSWORD)/);
      const health = await fetch(served.url("/health"));
      await health.body?.cancel();
      assert.equal(health.status, 200, "the API stays up");
      const texts = await Promise.all(
        ["/status", "/status?format=text", "/metrics", "/"].map(async (path) =>
          await (await fetch(served.url(path))).text()
        ),
      );
      assertNoSecret(texts.join("\n"), password);

      await setScramUser(user, password);
      await waitFor("/status to show the connection", async () => {
        const status = await (await fetch(served.url("/status"))).json();
        return status.kafka?.connected && !status.kafka.error ? true : undefined;
      }, 120_000);
      await mustRun(["produce", "--count", "30", "--users", "5", "--seed", randomSeed()], env);
      const ids = await rawIds(env);
      assert.equal(ids.length, 30);
      await waitFor("the new records in the lake", async () => {
        const records = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
        return countIds(ids, records).missing.length === 0 ? true : undefined;
      }, 120_000);
      const lake = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
      assert.deepEqual(countIds(ids, lake), { missing: [], doubled: [] });
      assert.equal(exited, null, "serve never exited");
    } finally {
      await served.stop();
      assertNoSecret(served.output.join("\n"), password);
      await Deno.remove(env.DATA_LAKE_DIR.replace(/\/lake$/, ""), { recursive: true })
        .catch(() => {});
    }
  },
});
