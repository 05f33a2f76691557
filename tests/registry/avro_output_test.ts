/**
 * OUTPUT_FORMAT=avro through the processor: the same raw transactions processed once with JSON
 * outputs and once with Avro outputs. Confluent's Python AvroDeserializer reads the Avro run's
 * TRANSACTIONS_SECURE and USER_SPENDING_BY_TYPE with the values the JSON run wrote; keys stay
 * text, the quarantine stays text; the lake writes the same lines for both runs; a restart whose
 * state must come from the Avro changelogs (no snapshot) continues the totals exactly.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/config.ts";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { FEEDS } from "../../src/config/settings.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { RegistryUnavailableError } from "../../src/registry/errors.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { consumeOnce, produce } from "../lake/_fixtures.ts";
import { testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { isolatedTopics } from "../processor/fixtures.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { confluentPython, REGISTRY_URL, registryTest } from "./_registry.ts";

const RATES = [
  { CURRENCY: "USD", RATE_TO_USD: 1 },
  { CURRENCY: "EUR", RATE_TO_USD: 1.1 },
];

function tx(id: number, who: number, type: string | null, amount: number, currency: string) {
  return {
    TRANSACTION_ID: `TXN-${String(id).padStart(8, "0")}`,
    USER_ID: `U0020${who}`,
    USER_NAME: `Person ${who}`,
    EMAIL: `person${who}@example.com`,
    CITY: "Zürich",
    COUNTRY: "Switzerland",
    IP_ADDRESS: `10.1.0.${who}`,
    STREET: `${who} Bahnhofstrasse`,
    TRANSACTION_TYPE: type,
    AMOUNT: amount,
    CURRENCY: currency,
    STATUS: id % 2 === 0 ? "completed" : "pending",
    TIMESTAMP: `2026-01-05T12:0${id % 10}:00.000Z`,
  };
}

const FIRST = [
  tx(1, 1, "purchase", 100, "USD"),
  tx(2, 1, "purchase", 50, "EUR"),
  tx(3, 2, "transfer", 19.99, "EUR"),
  tx(4, 2, null, 0.01, "USD"),
];
const SECOND = [
  tx(5, 1, "purchase", 10, "USD"),
  tx(6, 2, "transfer", 1, "EUR"),
  tx(7, 3, "refund", 7.5, "USD"),
];

const declared = (name: string) => FEEDS.find((f) => f.name === name)!;

/** Lake feeds named as a run's SECURE stream and spending table. */
function lakeFeeds(t: ProcessorTopics, format: "json" | "avro"): FeedDeclaration[] {
  return [
    { ...declared("TRANSACTIONS_SECURE"), name: t.secure, foreignKeys: [], format },
    { ...declared("USER_SPENDING_BY_TYPE"), name: t.userSpending, foreignKeys: [], format },
  ];
}

/** Every lake line of a feed, parsed, in a stable order. */
async function lakeLines(root: string, feed: string): Promise<unknown[]> {
  const lines: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".jsonl")) {
        lines.push(...(await Deno.readTextFile(path)).split("\n").filter(Boolean));
      }
    }
  };
  await walk(`${root}/${feed}`);
  return lines.sort().map((l) => JSON.parse(l));
}

const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** The records of `topic` read back with Confluent's AvroDeserializer, in topic order. */
async function readAvro(topic: string, count: number): Promise<Record<string, unknown>[]> {
  const values = await confluentPython({
    action: "read",
    registry: REGISTRY_URL,
    topic,
    group: uniqueName("py").toLowerCase(),
    count,
  });
  assert.equal(values.length, count, JSON.stringify(values.slice(0, 3)));
  return values;
}

/** The spending table's current rows (last value per user and type). */
function totals(values: Record<string, unknown>[]) {
  const state = new Map<string, Record<string, unknown>>();
  for (const v of values) state.set(`${v.USER_ID_HASHED}/${v.TRANSACTION_TYPE}`, v);
  return [...state.values()].sort(byJson);
}

async function processOnce(config: Config, kafka: KafkaClient, topics: ProcessorTopics) {
  return await startProcessor({ config, kafka, log: silentLogger, once: true, topics }).done;
}

registryTest(
  "OUTPUT_FORMAT=avro: Confluent's deserializer, the lake and a restart see the JSON run's values",
  async () => {
    const json = isolatedTopics();
    const avro = isolatedTopics();
    const withState = async (env: Record<string, string>) => {
      const config = await testConfig({ env: { SCHEMA_REGISTRY_URL: REGISTRY_URL, ...env } });
      return { ...config, processor: { ...config.processor, stateDir: `${config.root}/state` } };
    };
    const jsonConfig = await withState({});
    const avroConfig = await withState({ OUTPUT_FORMAT: "avro" });
    const lake = await testConfig({
      env: { SCHEMA_REGISTRY_URL: REGISTRY_URL },
      feeds: [...lakeFeeds(json, "json"), ...lakeFeeds(avro, "avro")],
    });
    const kafka = testKafka();
    const send = (t: ProcessorTopics, txs: object[]) =>
      produce(
        kafka,
        txs.map((v) => ({
          topic: t.raw,
          key: (v as { USER_ID?: string }).USER_ID ?? null,
          value: JSON.stringify(v),
        })),
      );
    try {
      assert.equal(avroConfig.outputFormat, "avro");
      for (const t of [json, avro]) {
        await kafka.ensureTopics([{ topic: t.raw, partitions: 2 }, { topic: t.rates }]);
        await produce(
          kafka,
          RATES.map((r) => ({ topic: t.rates, key: r.CURRENCY, value: JSON.stringify(r) })),
        );
        // One record that is not JSON: quarantined as text, in both runs.
        await send(t, [...FIRST, { TRANSACTION_ID: "broken" }]);
      }
      const first = [
        await processOnce(jsonConfig, kafka, json),
        await processOnce(avroConfig, kafka, avro),
      ];
      for (const stats of first) assert.deepEqual([stats.recordsIn, stats.rejected], [5, 1]);
      assert.deepEqual(first[1].out, renamed(first[0].out, json, avro));

      // Keys stay text; values are framed Avro (magic byte 0); the quarantine stays as it was.
      const secureJson = await readTopic(kafka, json.secure);
      const secureAvro = await readTopic(kafka, avro.secure);
      assert.equal(secureAvro.length, FIRST.length);
      assert.deepEqual(secureAvro.map((r) => r.key).sort(), secureJson.map((r) => r.key).sort());
      assert.ok(secureAvro.every((r) => r.value!.charCodeAt(0) === 0));
      const quarantined = await readTopic(kafka, avro.rejected);
      assert.deepEqual(quarantined.map((r) => r.value), [
        JSON.stringify({ TRANSACTION_ID: "broken" }),
      ]);

      const jsonValues = (records: { value: string | null }[]) =>
        records.map((r) => JSON.parse(r.value!)).sort(byJson);
      assert.deepEqual(
        (await readAvro(avro.secure, FIRST.length)).sort(byJson),
        jsonValues(secureJson),
      );
      const spendingJson = await readTopic(kafka, json.userSpending);
      const spendingAvro = await readAvro(avro.userSpending, spendingJson.length);
      assert.deepEqual([...spendingAvro].sort(byJson), jsonValues(spendingJson));
      // The windows (stage two, fed by the internal topic, which stays JSON) too.
      const windowsJson = await readTopic(kafka, json.windows);
      assert.ok(windowsJson.length > 0);
      assert.deepEqual(
        (await readAvro(avro.windows, windowsJson.length)).sort(byJson),
        jsonValues(windowsJson),
      );

      const stats = await consumeOnce(lake, kafka);
      for (const [a, b] of [[json.secure, avro.secure], [json.userSpending, avro.userSpending]]) {
        assert.deepEqual([stats[b].written, stats[b].rejected], [stats[a].written, 0]);
        const lines = await lakeLines(lake.dataLakeDir, b);
        assert.ok(lines.length > 0);
        assert.deepEqual(lines, await lakeLines(lake.dataLakeDir, a));
      }

      // A restart with no snapshot: the Avro run's state comes from its Avro changelogs alone.
      await Deno.remove(avroConfig.processor.stateDir, { recursive: true });
      for (const t of [json, avro]) await send(t, SECOND);
      await processOnce(jsonConfig, kafka, json);
      const second = await processOnce(avroConfig, kafka, avro);
      assert.deepEqual([second.recordsIn, second.rejected], [SECOND.length, 0]);
      const allJson = (await readTopic(kafka, json.userSpending)).map((r) => JSON.parse(r.value!));
      const allAvro = await readAvro(avro.userSpending, allJson.length);
      const final = totals(allAvro);
      assert.deepEqual(final, totals(allJson));
      // Worked out by hand: counts and sums continue across the restart.
      assert.deepEqual(
        final.map((v) => [v.TRANSACTION_TYPE, v.TRANSACTION_COUNT, v.TOTAL_AMOUNT_USD]).sort(
          byJson,
        ),
        [
          ["UNKNOWN", 1, 0.01],
          ["purchase", 3, 165],
          ["refund", 1, 7.5],
          ["transfer", 2, 23.089],
        ].sort(byJson),
      );
    } finally {
      await kafka.close();
      for (const c of [jsonConfig, avroConfig, lake]) {
        await Deno.remove(c.root, { recursive: true });
      }
    }
  },
);

/** A run's per-topic counters with its topic names replaced by the other run's. */
function renamed(out: Record<string, number>, from: ProcessorTopics, to: ProcessorTopics) {
  const names = new Map<string, string>();
  for (const role of Object.keys(from) as (keyof ProcessorTopics)[]) {
    const a = from[role];
    const b = to[role];
    if (typeof a === "string") names.set(a, b as string);
    else for (const s of Object.keys(a)) names.set(a[s], (b as Record<string, string>)[s]);
  }
  return Object.fromEntries(Object.entries(out).map(([topic, n]) => [names.get(topic), n]));
}

registryTest(
  "OUTPUT_FORMAT=avro with the registry unreachable: process --once waits, then fails with the cause, writing nothing",
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const t = isolatedTopics();
    const loaded = await testConfig({
      // The bounded wait of `--once` (30 s by default) shortened: the outcome is the same.
      env: { SCHEMA_REGISTRY_URL: deadUrl, OUTPUT_FORMAT: "avro", ONCE_OUTAGE_SECONDS: "5" },
    });
    const config = {
      ...loaded,
      processor: { ...loaded.processor, stateDir: `${loaded.root}/state` },
    };
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic: t.raw, partitions: 1 }, { topic: t.rates }]);
      await produce(kafka, [
        { topic: t.rates, key: "USD", value: JSON.stringify(RATES[0]) },
        { topic: t.raw, key: FIRST[0].USER_ID, value: JSON.stringify(FIRST[0]) },
      ]);
      await assert.rejects(
        () => processOnce(config, kafka, t),
        (e) =>
          e instanceof RegistryUnavailableError &&
          /Schema Registry not reachable .*\(gave up after \d+ s\)/.test(e.message),
      );
      // Nothing written: the record is read again once the registry is back.
      assert.deepEqual(await readTopic(kafka, t.secure), []);
      assert.deepEqual(await readTopic(kafka, t.rejected), []);
    } finally {
      await kafka.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
