/**
 * An Avro feed whose registry cannot be reached: the record waits (not quarantined), and the
 * status (GET /status's collectStatus, and its text form) shows the registry down with the cause,
 * never the password. (Library level: `serve` itself would also consume the product's shared
 * topics, which other tests fill.)
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { startLakeConsumer } from "../../src/lake/consumer.ts";
import { collectStatus } from "../../src/service/status.ts";
import { formatStatus } from "../../src/service/status_text.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { ensureJobTables } from "../../src/scheduler/store.ts";
import { confluentPython, REGISTRY_URL, registryFeed, registryTest } from "./_registry.ts";

registryTest(
  "status: an unreachable registry is shown down with its cause, the feed waits, no password",
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const password = "registry-pass-9f3";
    const { feed, config, kafka, close } = await registryFeed("REG_STATUS", "avro", {
      env: {
        SCHEMA_REGISTRY_URL: `http://127.0.0.1:${deadPort}`,
        SCHEMA_REGISTRY_USERNAME: "reader",
        SCHEMA_REGISTRY_PASSWORD: password,
      },
    });
    const lines: string[] = [];
    const log = new Logger({ level: "debug", sink: { write: (line) => lines.push(line) } });
    const warehouse = await openWarehouseFromConfig(config);
    await ensureJobTables(warehouse);
    let consumer: Awaited<ReturnType<typeof startLakeConsumer>> | undefined;
    try {
      const schema = JSON.stringify({
        type: "record",
        name: "S",
        fields: [{ name: "ID", type: "string" }],
      });
      const sent = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema,
        records: [{ ID: "x" }],
      });
      assert.equal(sent[0].produced, 1, JSON.stringify(sent));

      consumer = await startLakeConsumer({ config, kafka, log, feeds: config.feeds });
      const deadline = Date.now() + 60_000;
      while (consumer.registryHealth?.().up !== false) {
        assert.ok(Date.now() < deadline, "the registry never showed down");
        await new Promise((r) => setTimeout(r, 200));
      }
      const status = await collectStatus({
        config,
        warehouse,
        kafka,
        registryHealth: consumer.registryHealth?.(),
      });
      assert.equal(status.schemaRegistry?.url, `http://127.0.0.1:${deadPort}`);
      assert.equal(status.schemaRegistry?.connected, false);
      assert.match(status.schemaRegistry?.error ?? "", /not reachable/);
      const text = formatStatus(status).join("\n");
      assert.match(text, /Registry {3}DOWN {2}http:\/\/127\.0\.0\.1/);
      assert.deepEqual(
        [consumer.stats()[feed].written, consumer.stats()[feed].rejected],
        [0, 0],
        "the record waits: neither written nor quarantined",
      );
      assert.ok(!JSON.stringify(status).includes(password) && !text.includes(password));
      assert.ok(lines.some((l) => JSON.parse(l).event === "registry.unavailable"));

      // Without registry settings, /status says nothing about a registry.
      const plain = await collectStatus({
        config: { ...config, schemaRegistry: undefined },
        warehouse,
        kafka,
      });
      assert.equal(plain.schemaRegistry, undefined);
    } finally {
      await consumer?.stop();
      await consumer?.done;
      await warehouse.close();
      await close();
    }
    assert.ok(!lines.join("\n").includes(password), "the registry password was logged");
  },
);
