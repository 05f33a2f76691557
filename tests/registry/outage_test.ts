/**
 * The registry stopped while records wait: the feed waits and retries (reported in the log and in
 * the consumer's registry health), quarantines nothing, and resumes by itself once the registry
 * is back. The test runs a registry of its own (scripts/schema-registry.sh on
 * SCHEMA_REGISTRY_OUTAGE_PORT, default 18091) so that stopping it disturbs no other test. It is
 * stopped with SIGSTOP (`pause`), not shut down: its storage is in memory, and a restarted empty
 * registry would rightly make the records' ids unknown (quarantine).
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { startLakeConsumer } from "../../src/lake/consumer.ts";
import { REPO_ROOT } from "../helpers/env.ts";
import { confluentPython, registryFeed, registryTest } from "./_registry.ts";

const PORT = Deno.env.get("SCHEMA_REGISTRY_OUTAGE_PORT") ?? "18091";
const URL = `http://127.0.0.1:${PORT}/apis/ccompat/v7`;
const SCHEMA = JSON.stringify({
  type: "record",
  name: "Tick",
  fields: [{ name: "ID", type: "string" }, { name: "N", type: "int" }],
});

async function registry(action: "start" | "stop" | "pause" | "resume"): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [`${REPO_ROOT}scripts/schema-registry.sh`, action],
    env: { SCHEMA_REGISTRY_PORT: PORT },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`schema-registry.sh ${action}: ${text}`);
}

/** Polls `check` every 200 ms until it holds, for at most `ms`. */
async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

registryTest(
  "Registry stopped mid-stream: the feed waits, quarantines nothing, and resumes",
  async () => {
    // The feed's registry is this test's own.
    const { feed, config, kafka, close } = await registryFeed("REG_OUTAGE", "avro", {
      env: { SCHEMA_REGISTRY_URL: URL },
    });
    const events: Record<string, unknown>[] = [];
    const log = new Logger({
      level: "info",
      sink: { write: (line) => events.push(JSON.parse(line)) },
    });
    let consumer: Awaited<ReturnType<typeof startLakeConsumer>> | undefined;
    try {
      await registry("start");
      const first = await confluentPython({
        registry: URL,
        topic: feed,
        schema: SCHEMA,
        records: [1, 2, 3].map((n) => ({ ID: `a${n}`, N: n })),
      });
      assert.equal(first[0].produced, 3, JSON.stringify(first));
      await registry("pause");

      // A consumer stopped while it waits for the registry stops cleanly: nothing written,
      // nothing quarantined, nothing committed.
      const waiting = await startLakeConsumer({ config, kafka, log, feeds: config.feeds });
      await until(
        "registry.unavailable",
        () => events.some((e) => e.event === "registry.unavailable"),
      );
      assert.equal(waiting.registryHealth?.().up, false);
      await waiting.stop();
      const stopped = await waiting.done;
      assert.deepEqual([stopped[feed].written, stopped[feed].rejected], [0, 0]);

      // The next one waits too, and resumes once the registry answers again.
      consumer = await startLakeConsumer({ config, kafka, log, feeds: config.feeds });
      const stats = () => consumer!.stats()[feed];
      let failure: unknown;
      consumer.done.catch((e) => failure = e);
      await until(
        "a second registry.unavailable",
        () => events.filter((e) => e.event === "registry.unavailable").length >= 2,
      );
      assert.deepEqual([stats().written, stats().rejected], [0, 0]);

      await registry("resume");
      await until("the three waiting records in the lake", () => stats().written === 3)
        .catch((e) => {
          throw new Error(
            `${e.message} (consumer: ${failure ?? "running"}, stats: ${JSON.stringify(stats())})`,
          );
        });
      assert.equal(stats().rejected, 0);
      const second = await confluentPython({
        registry: URL,
        topic: feed,
        schema: SCHEMA,
        records: [4, 5].map((n) => ({ ID: `a${n}`, N: n })),
      });
      assert.equal(second[0].produced, 2, JSON.stringify(second));

      await until("all five records in the lake", () => stats().written === 5);
      assert.equal(stats().rejected, 0);
      assert.equal(consumer.registryHealth?.().up, true);
      assert.ok(events.some((e) => e.event === "registry.recovered"));
    } finally {
      await consumer?.stop();
      await consumer?.done.catch(() => {});
      await registry("resume").catch(() => {});
      await registry("stop").catch(() => {});
      await close();
    }
  },
);
