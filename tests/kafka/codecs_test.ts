/**
 * Every codec Kafka has, against the real broker, with kcat (a client we did not write) on the
 * other side: batches kcat compressed with none, gzip, snappy, lz4 and zstd are read by
 * `consume --once` (a feed topic) and by the processor (the raw topic); what we produce with each
 * KAFKA_COMPRESSION is written in that codec and read back by kcat.
 */
import assert from "node:assert/strict";
import { Consumer } from "@platformatic/kafka";
import { COMPRESSIONS, type KafkaCompression } from "../../src/config/kafka.ts";
import { silentLogger } from "../../src/core/log.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { BROKERS, envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { streamFeed } from "../lake/_fixtures.ts";
import { isolatedTopics } from "../processor/fixtures.ts";
import { readTopic } from "../processor/kafka_helpers.ts";

/** Kafka's codec ids (the low three bits of a record batch's attributes). */
const CODEC_IDS: Record<KafkaCompression, number> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

async function kcat(args: string[], input?: string): Promise<string> {
  const child = new Deno.Command("kcat", {
    args: ["-b", BROKERS, ...args],
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  if (out.code !== 0) throw new Error(`kcat ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

/** Produces `lines` (key TAB value) with kcat, compressed with `codec`, in one batch. */
function kcatProduce(topic: string, codec: KafkaCompression, lines: string[]) {
  return kcat(
    ["-P", "-t", topic, "-K", "\t", "-z", codec, "-X", "linger.ms=100"],
    lines.join("\n") + "\n",
  );
}

/** The codec of every record batch of partition 0 of `topic`, read with the library itself. */
async function batchCodecs(topic: string): Promise<number[]> {
  const client = new Consumer({
    clientId: "codec-check",
    bootstrapBrokers: BROKERS.split(","),
    groupId: uniqueName("codec").toLowerCase(),
  });
  try {
    const metadata = await client.metadata({ topics: [topic] });
    const response = await client.fetch({
      node: metadata.topics.get(topic)!.partitions[0].leader,
      topics: [{
        topicId: metadata.topics.get(topic)!.id,
        partitions: [{
          partition: 0,
          fetchOffset: 0n,
          partitionMaxBytes: 1 << 20,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        }],
      }],
    });
    return response.responses[0].partitions[0].records!.filter((b) => !(b.attributes & 0x20))
      .map((b) => b.attributes & 7);
  } finally {
    await client.close(true);
  }
}

Deno.test("codecs: consume --once reads a feed topic kcat wrote with every codec", async () => {
  const feed = streamFeed();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/feeds.json`, JSON.stringify({ feeds: [feed] }));
  const config = await testConfig({ env: { FEEDS_FILE: `${dir}/feeds.json` } });
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: feed.name, partitions: 1 }]);
    const expected: string[] = [];
    for (const codec of COMPRESSIONS) {
      const lines = Array.from({ length: 50 }, (_, i) => {
        const value = `{"ID":"${codec}-${i}","AMOUNT":${i},"TS":"2026-05-01T10:00:00Z"}`;
        expected.push(value);
        return `k${i}\t${value}`;
      });
      await kcatProduce(feed.name, codec, lines);
    }
    assert.deepEqual(
      new Set(await batchCodecs(feed.name)),
      new Set(Object.values(CODEC_IDS)),
      "kcat wrote a batch in each codec",
    );
    const run = await runMain(["consume", "--once", "--feeds", feed.name], envOf(config));
    assert.equal(run.code, 0, run.stderr);
    const lake = (await Deno.readTextFile(
      partitionPath(config.dataLakeDir, feed.name, "2026-05-01"),
    )).split("\n").filter(Boolean);
    assert.deepEqual(lake, expected);
  } finally {
    await kafka.close();
  }
});

Deno.test("codecs: the processor reads raw records kcat wrote with every codec", async () => {
  const topics = isolatedTopics();
  const config = await testConfig();
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: topics.raw, partitions: 1 }, { topic: topics.rates }]);
    const producer = await kafka.producer();
    await producer.send([{
      topic: topics.rates,
      key: "USD",
      value: '{"CURRENCY":"USD","RATE_TO_USD":1}',
    }]);
    const ids: string[] = [];
    for (const codec of COMPRESSIONS) {
      const lines = Array.from({ length: 20 }, (_, i) => {
        const id = `TXN-${codec.toUpperCase()}-${String(i).padStart(4, "0")}`;
        ids.push(id);
        return `U0000${i % 5}\t${
          JSON.stringify({
            TRANSACTION_ID: id,
            USER_ID: `U0000${i % 5}`,
            USER_NAME: "Ann Example",
            EMAIL: "ann@example.com",
            TRANSACTION_TYPE: "purchase",
            AMOUNT: 10 + i,
            CURRENCY: "USD",
            STATUS: "completed",
            CITY: "Lyon",
            COUNTRY: "France",
            IP_ADDRESS: "10.1.2.3",
            STREET: "3 Rue Longue",
            TIMESTAMP: "2026-03-01T10:00:00Z",
          })
        }`;
      });
      await kcatProduce(topics.raw, codec, lines);
    }
    const stats = await startProcessor({ config, kafka, log: silentLogger, once: true, topics })
      .done;
    assert.equal(stats.recordsIn, ids.length);
    const secure = await readTopic(kafka, topics.secure);
    assert.deepEqual(secure.map((r) => JSON.parse(r.value!).TRANSACTION_ID).sort(), ids.sort());
  } finally {
    await kafka.close();
  }
});

for (const codec of COMPRESSIONS) {
  Deno.test(`codecs: KAFKA_COMPRESSION=${codec} writes ${codec} batches that kcat reads back`, async () => {
    const config = await testConfig({ env: { KAFKA_COMPRESSION: codec } });
    assert.equal(config.kafka.compression, codec);
    const kafka = connectKafka(config, silentLogger);
    const topic = uniqueName(`t_${codec}`);
    const txTopic = uniqueName(`t_${codec}_tx`);
    try {
      await kafka.ensureTopics([{ topic }, { topic: txTopic }]);
      // Repetitive values, as our JSON is: every codec makes them smaller.
      const values = Array.from({ length: 200 }, (_, i) => `{"N":${i},"PAD":"${"é".repeat(60)}"}`);
      const producer = await kafka.producer();
      await producer.send(values.map((value, i) => ({ topic, key: `k${i}`, value })));
      const tx = await kafka.transactionalProducer(uniqueName("tx"));
      await tx.sendWithOffsets(values.map((value) => ({ topic: txTopic, key: null, value })), {
        generation: { groupId: uniqueName("g").toLowerCase(), memberId: "", generationId: -1 },
        offsets: [],
      });
      for (const t of [topic, txTopic]) {
        assert.deepEqual([...new Set(await batchCodecs(t))], [CODEC_IDS[codec]], t);
        const read = await kcat(["-C", "-t", t, "-e", "-q", "-o", "beginning", "-f", "%s\n"]);
        assert.deepEqual(read.split("\n").filter(Boolean), values, t);
      }
    } finally {
      await kafka.close();
    }
  });
}
