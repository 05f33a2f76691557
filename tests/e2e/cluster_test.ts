/**
 * Three brokers (issue 16, item 3), on the cluster scripts/kafka.sh runs
 * (KAFKA_TEST_CLUSTER_BROKERS): serve with its processor while `produce --rate` writes at a
 * steady pace; the broker leading the raw topic is killed with SIGKILL and restarted, then the
 * one leading TRANSACTIONS_SECURE. Afterwards every raw record is in TRANSACTIONS_SECURE
 * (read_committed, by kcat) and in the lake exactly once, USER_SPENDING_BY_TYPE counts match the
 * secure records, serve never exited, and the topics we created have 3 replicas and
 * min.insync.replicas 2. This test owns the cluster while it runs (it kills its nodes).
 */
import assert from "node:assert/strict";
import { typeOrUnknown } from "../../src/processor/transform.ts";
import {
  CLUSTER,
  clusterSh,
  countIds,
  lakeFeedRecords,
  needs,
  partitionLeaders,
  readTopic,
  topicMetadata,
} from "../helpers/brokers.ts";
import { spawnMain, tempDir, uniqueName } from "../helpers/env.ts";
import { type Served, startServe, waitFor } from "./service_helpers.ts";

const SECURE = "TRANSACTIONS_SECURE";
const SPENDING = "USER_SPENDING_BY_TYPE";

/** serve's exit (if any) and /health once a second. */
function watch(served: Served) {
  let exited: number | null = null;
  void served.child.status.then((s) => (exited = s.code));
  const failures: string[] = [];
  const timer = setInterval(async () => {
    try {
      const res = await fetch(served.url("/health"), { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (res.status !== 200) failures.push(`/health ${res.status}`);
    } catch (error) {
      failures.push(String(error));
    }
  }, 1000);
  return {
    alive() {
      if (exited !== null) {
        throw new Error(`serve exited with ${exited}:\n${served.output.join("\n")}`);
      }
    },
    failures,
    stop: () => clearInterval(timer),
  };
}

/** The node leading most partitions of `topic`. */
async function mainLeader(topic: string): Promise<number> {
  const leaders = await partitionLeaders(CLUSTER!, topic);
  const counts = new Map<number, number>();
  for (const p of leaders) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

Deno.test({
  ...needs(
    "cluster",
    "three brokers: serve with the processor at a steady rate survives SIGKILL of the raw " +
      "topic's and a feed topic's leaders; every record exactly once in outputs and lake",
  ),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await clusterSh("start"); // every node up, whatever an earlier run left
    // Shared output topics made earlier with fewer replicas (say by an older build) would
    // make this test fail for a reason that is not the product's: say so at once.
    const stale = (await topicMetadata(CLUSTER!))
      .filter((t) => !t.topic.startsWith("_") && t.partitions.some((p) => p.replicas.length < 3))
      .filter((t) => /^[A-Z_]+$/.test(t.topic))
      .map((t) => t.topic);
    assert.deepEqual(
      stale,
      [],
      "topics with fewer than 3 replicas on the test cluster: " +
        "start from a clean one (scripts/kafka.sh cluster reset, then cluster start)",
    );
    const root = await tempDir("e2e-cluster-");
    const env: Record<string, string> = {
      KAFKA_BROKERS: CLUSTER!,
      KAFKA_GROUP_ID: uniqueName("cluster").toLowerCase(),
      DATA_LAKE_DIR: `${root}/lake`,
      WAREHOUSE_PATH: `${root}/warehouse.db`,
      PROCESSOR_STATE_DIR: `${root}/processor_state`,
      ANONYMIZATION_KEY: uniqueName("key"),
      PIPELINE_SCHEDULE: "0 0 1 1 *",
      RAW_TOPIC: uniqueName("raw").toLowerCase(),
      REJECTED_TOPIC: uniqueName("rejected").toLowerCase(),
    };
    const plain = { KAFKA_BROKERS: CLUSTER! };
    const served = await startServe([], env);
    const watcher = watch(served);
    let serveCode: number | undefined;
    // serve's processor first: its transactional producer makes the cluster's transaction log,
    // which a fresh cluster does not have yet (produce alone fails on it: see the README).
    await waitFor("the processor to start", () => {
      watcher.alive();
      return served.events.some((e) => e.event === "processor.started") ? true : undefined;
    }, 240_000);
    // Earlier runs' records on this cluster reach the new lake first: progress below counts
    // only what comes after the lake has caught up with them.
    await waitFor("the lake to catch up with the cluster's history", async () => {
      watcher.alive();
      const status = await (await fetch(served.url("/status"))).json();
      const secure = status.feeds?.find((f: { name: string }) => f.name === SECURE);
      return secure?.lag === 0 ? true : undefined;
    }, 240_000);
    const seed = String(Math.floor(Math.random() * 2 ** 31));
    const producer = spawnMain(["produce", "--rate", "40", "--users", "30", "--seed", seed], env);
    const produced = producer.output();
    let producerStopped = false;
    let producerEnded: string | undefined;
    void produced.then((out) => {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      if (!producerStopped) producerEnded = `produce ended by itself (${out.code}):\n${text}`;
    });
    const lakeCount = async () => (await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE)).length;
    /** Waits until the lake has grown by `more` secure records. */
    const progress = async (what: string, more: number) => {
      const from = await lakeCount();
      try {
        await waitFor(what, async () => {
          watcher.alive();
          if (producerEnded) throw new Error(producerEnded);
          return (await lakeCount()) >= from + more ? true : undefined;
        }, 240_000);
      } catch (error) {
        // What serve said last is what tells why it is stuck.
        const tail = served.output.slice(-30).map((line) => line.slice(0, 400)).join("\n");
        throw new Error(
          `${(error as Error).message} (lake: ${from} -> ${await lakeCount()})\n${tail}`,
        );
      }
    };
    try {
      await progress("the first records in the lake", 100);

      const rawLeader = await mainLeader(env.RAW_TOPIC);
      await clusterSh("kill", String(rawLeader));
      await progress(`progress with node ${rawLeader} (raw topic leader) killed`, 200);
      await clusterSh("restart", String(rawLeader));
      await progress(`progress after node ${rawLeader} came back`, 100);

      const feedLeader = await mainLeader(SECURE);
      await clusterSh("kill", String(feedLeader));
      await progress(`progress with node ${feedLeader} (${SECURE} leader) killed`, 200);
      await clusterSh("restart", String(feedLeader));
      await progress(`progress after node ${feedLeader} came back`, 100);

      producerStopped = true;
      producer.kill("SIGTERM");
      const out = await produced;
      const producerText = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `produce failed:\n${producerText}`);
      const sent = Number(producerText.match(/sent (\d+) transactions/)?.[1]);

      const raw = await readTopic(env.RAW_TOPIC, plain);
      const ids = raw.map((r) => String(JSON.parse(r.value!).TRANSACTION_ID));
      assert.equal(raw.length, sent, "the raw topic holds what produce says it sent");
      assert.equal(new Set(ids).size, ids.length, "no raw record twice");

      await waitFor("every raw record in the lake", async () => {
        watcher.alive();
        const lake = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
        return countIds(ids, lake).missing.length === 0 ? true : undefined;
      }, 240_000);
      const secure = (await readTopic(SECURE, plain)).map((r) => JSON.parse(r.value!));
      assert.deepEqual(countIds(ids, secure), { missing: [], doubled: [] }, SECURE);
      const lake = await lakeFeedRecords(env.DATA_LAKE_DIR, SECURE);
      assert.deepEqual(countIds(ids, lake), { missing: [], doubled: [] }, "lake");

      // Aggregates: the last committed value per (user, type) counts our secure records.
      const idSet = new Set(ids);
      const ours = secure.filter((v) => idSet.has(String(v.TRANSACTION_ID)));
      const expected = new Map<string, number>();
      for (const v of ours) {
        const key = `${v.USER_ID_HASHED}|${typeOrUnknown(v.TRANSACTION_TYPE)}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      const users = new Set(ours.map((v) => String(v.USER_ID_HASHED)));
      const latest = new Map<string, number>();
      for (const r of await readTopic(SPENDING, plain)) {
        if (r.value === null) continue;
        const v = JSON.parse(r.value);
        if (!users.has(v.USER_ID_HASHED)) continue;
        latest.set(`${v.USER_ID_HASHED}|${v.TRANSACTION_TYPE}`, v.TRANSACTION_COUNT);
      }
      assert.deepEqual(
        [...latest].sort(),
        [...expected].sort(),
        `${SPENDING} counts match the secure records`,
      );

      assert.deepEqual(watcher.failures, [], "/health answered throughout");
      watcher.alive();

      for (const topic of [env.RAW_TOPIC, SECURE, SPENDING]) {
        const partitions = await partitionLeaders(CLUSTER!, topic);
        assert.ok(partitions.every((p) => p.replicas === 3), `${topic}: 3 replicas`);
        const config = await clusterSh("topic-config", topic);
        assert.match(config, /min\.insync\.replicas=2/, `${topic}: min.insync.replicas 2`);
      }
    } finally {
      watcher.stop();
      try {
        producer.kill("SIGTERM");
      } catch {
        // already gone
      }
      await produced.catch(() => {});
      serveCode = await served.stop();
      await clusterSh("start").catch(() => {});
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
    assert.equal(serveCode, 0, `serve stopped with ${serveCode}:\n${served.output.join("\n")}`);
  },
});
