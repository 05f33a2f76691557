/**
 * `consume --once` with an Avro feed whose registry cannot be reached waits a bounded time (the
 * `--once` policy of src/kafka/retry.ts: ONCE_OUTAGE_SECONDS, 5 s here), then exits 1 with one
 * line naming the cause; nothing is written or quarantined, so a later run reads the record again.
 */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { rejectedPath } from "../../src/lake/layout.ts";
import { envOf, runMain, testConfig, uniqueName } from "../helpers/env.ts";
import { writeFeedsFile } from "../e2e/service_helpers.ts";
import { confluentPython, REGISTRY_URL, registryTest } from "./_registry.ts";

registryTest(
  "consume --once gives up on an unreachable registry after the bounded wait, exit 1",
  async () => {
    const feed = uniqueName("REG_ONCE");
    const declared = [{
      name: feed,
      kind: "stream" as const,
      primaryKey: ["ID"],
      format: "avro" as const,
    }];
    const base = await testConfig({ feeds: declared, env: { SCHEMA_REGISTRY_URL: REGISTRY_URL } });
    try {
      const sent = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify({
          type: "record",
          name: "S",
          fields: [{ name: "ID", type: "string" }],
        }),
        records: [{ ID: "x" }],
      });
      assert.equal(sent[0].produced, 1, JSON.stringify(sent));
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const deadPort = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const result = await runMain(["consume", "--once", "--feeds", feed], {
        ...envOf(base),
        FEEDS_FILE: await writeFeedsFile(base.root, declared),
        SCHEMA_REGISTRY_URL: `http://127.0.0.1:${deadPort}`,
        ONCE_OUTAGE_SECONDS: "5",
        LOG_FORMAT: "json",
      });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(
        result.stderr,
        /error: Schema Registry not reachable .* \(gave up after \d+ s\)/,
      );
      assert.match(result.stderr, /registry\.unavailable/);
      const day = new Date().toISOString().slice(0, 10);
      const quarantine = rejectedPath(base.dataLakeDir, findFeed(base, feed)!, day);
      await assert.rejects(() => Deno.stat(quarantine), Deno.errors.NotFound);
    } finally {
      await Deno.remove(base.root, { recursive: true });
    }
  },
);
