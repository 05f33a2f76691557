/**
 * Kafka outages against brokers these tests own (never the shared one): 127.0.0.1:19092 and
 * 127.0.0.1:19192, started, stopped and wiped with scripts/kafka.sh. Slow by nature (a broker
 * start takes 10-50 s on a loaded machine), so the timeouts are generous.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, spawnMain, tempDir } from "../helpers/env.ts";
import { jsonInit, setupApi } from "../routes/fixtures.ts";
import { type Served, startServe, waitFor } from "./service_helpers.ts";

const PORT_A = 19092;
const PORT_B = 19192;

async function kafkaSh(port: number, command: "start" | "stop" | "reset"): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [`${REPO_ROOT}scripts/kafka.sh`, command],
    // This test's own brokers: plaintext only, whatever SASL_SSL listener the run's broker has.
    env: { KAFKA_PORT: String(port), KAFKA_START_TIMEOUT: "150", KAFKA_SASL_SSL_PORT: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`kafka.sh ${command} on ${port}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function serveEnv(port: number): Promise<Record<string, string>> {
  const root = await tempDir("e2e-outage-");
  return {
    KAFKA_BROKERS: `127.0.0.1:${port}`,
    KAFKA_GROUP_ID: `outage-${port}-${Date.now()}`,
    DATA_LAKE_DIR: `${root}/lake`,
    WAREHOUSE_PATH: `${root}/warehouse.db`,
    ANONYMIZATION_KEY: "test-anonymization-key",
    PIPELINE_SCHEDULE: "0 0 1 1 *",
  };
}

/** Records in the lake, all feeds (quarantine and state excluded). */
async function lakeRecords(root: string): Promise<number> {
  let n = 0;
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.startsWith("_")) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".jsonl")) {
        n += (await Deno.readTextFile(path)).split("\n").filter(Boolean).length;
      }
    }
  };
  await walk(root).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  return n;
}

/** Watches a running serve: exit, and /health answered (or not) once a second. */
function watch(served: Served) {
  let exited: number | null = null;
  void served.child.status.then((s) => (exited = s.code));
  const failures: string[] = [];
  let polls = 0;
  const timer = setInterval(async () => {
    try {
      const res = await fetch(served.url("/health"), { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      polls++;
      if (res.status !== 200) failures.push(`status ${res.status}`);
    } catch (error) {
      failures.push(String(error));
    }
  }, 1000);
  return {
    /** Throws as soon as serve has exited (no need to wait out a timeout). */
    alive() {
      if (exited !== null) {
        throw new Error(`serve exited with ${exited}:\n${served.output.join("\n")}`);
      }
    },
    assertHealthy(what: string) {
      assert.equal(exited, null, `serve exited (${what}):\n${served.output.join("\n")}`);
      assert.deepEqual(failures, [], `/health failed (${what})`);
      assert.ok(polls > 0);
    },
    /** /health calls answered so far. */
    polls: () => polls,
    stop: () => clearInterval(timer),
  };
}

function assertNoRuntimeWarning(served: Served) {
  const warnings = served.output.filter((line) => /Warning:|\(node:\d+\)/.test(line));
  assert.deepEqual(warnings, [], "a start prints no runtime warning");
}

async function produce(env: Record<string, string>, count: number) {
  const out = await spawnMain(["produce", "--count", String(count), "--seed", "7"], env)
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

// The second broker is wiped and started in the background while test (a) runs without one.
let brokerB: Promise<void> | undefined;

Deno.test({
  name: "serve started with its broker down, broker up later: never exits, data flows",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await kafkaSh(PORT_A, "reset"); // stopped and wiped
    brokerB = kafkaSh(PORT_B, "reset").then(() => kafkaSh(PORT_B, "start"));
    const env = await serveEnv(PORT_A);
    const served = await startServe([], env);
    const watcher = watch(served);
    try {
      // Serve has met the outage (it says so) and keeps answering /health through it.
      await waitFor("serve to report Kafka unavailable", () => {
        watcher.alive();
        return served.events.some((e) => e.event === "kafka.unavailable") ? true : undefined;
      }, 120_000);
      const answered = watcher.polls();
      await waitFor("five more /health answers without a broker", () => {
        watcher.alive();
        return watcher.polls() >= answered + 5 ? true : undefined;
      }, 120_000);
      watcher.assertHealthy("without a broker");
      const status = await (await fetch(served.url("/status"))).json();
      assert.equal(status.kafka.connected, false);

      await kafkaSh(PORT_A, "start");
      await produce(env, 200);
      await waitFor(
        "records in the lake",
        async () => {
          watcher.alive();
          return (await lakeRecords(env.DATA_LAKE_DIR)) >= 200 ? true : undefined;
        },
        120_000,
      );
      watcher.assertHealthy("after the broker came up");
      assert.ok(served.events.some((e) => e.event === "kafka.unavailable"));
      // One line per attempt window, not one per retry.
      const lines = served.events.filter((e) => e.event === "kafka.unavailable");
      assert.ok(lines.length <= 4, `${lines.length} kafka.unavailable lines`);
      assertNoRuntimeWarning(served);
    } finally {
      watcher.stop();
      await served.stop();
    }
  },
});

Deno.test({
  name: "serve and produce started at the same moment on a wiped broker: serve never exits",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await (brokerB ?? kafkaSh(PORT_B, "reset").then(() => kafkaSh(PORT_B, "start")));
    const env = await serveEnv(PORT_B);
    const [served] = await Promise.all([startServe([], env), produce(env, 300)]);
    const watcher = watch(served);
    try {
      await waitFor(
        "records in the lake",
        async () => {
          watcher.alive();
          return (await lakeRecords(env.DATA_LAKE_DIR)) >= 300 ? true : undefined;
        },
        120_000,
      );
      watcher.assertHealthy("fresh broker");
      const status = await (await fetch(served.url("/status"))).json();
      assert.equal(status.kafka.connected, true, JSON.stringify(status.kafka));
    } finally {
      watcher.stop();
      await served.stop();
    }
  },
});

Deno.test({
  name: "POST /feeds/:feed/records: 503 while Kafka is down, 202 again once it is back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await kafkaSh(PORT_B, "stop");
    // A plain produce rides out a leader change for about 44 s before it fails; a short delivery
    // timeout gives the same 503 sooner.
    const api = await setupApi({
      brokers: `127.0.0.1:${PORT_B}`,
      loadRows: false,
      env: { KAFKA_DELIVERY_TIMEOUT_MS: "3000" },
    });
    const record = [{
      ORDER_ID: "P1",
      COUNTRY: "Italy",
      AMOUNT: 1,
      CREATED_AT: "2026-11-24T08:00:00Z",
    }];
    const post = () =>
      api.request(`/feeds/${api.orders}/records`, jsonInit("POST", record, api.tokens.writer));
    try {
      const down = await post();
      assert.equal(down.status, 503, await down.text());

      await kafkaSh(PORT_B, "start");
      await waitFor("a 202 after the outage", async () => {
        const res = await post();
        await res.body?.cancel();
        return res.status === 202 ? true : undefined;
      }, 90_000);
    } finally {
      await api.close();
      await kafkaSh(PORT_B, "stop");
      await kafkaSh(PORT_A, "stop");
    }
  },
});
