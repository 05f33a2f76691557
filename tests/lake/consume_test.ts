/** The lake consumer against the real broker: layout, modes and quarantine. */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { topicSpecForFeed } from "../../src/kafka/topics.ts";
import { listPartitions, partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { produceWithKcat, testConfig, testKafka } from "../helpers/env.ts";
import { consumeOnce, produce, readLines, staticFeed, streamFeed, tableFeed } from "./_fixtures.ts";
import { testWithKcat } from "../helpers/needs.ts";

Deno.test("lake: messages over three dates land in three partition files, exact path and content", async () => {
  const feed = streamFeed();
  const config = await testConfig({ feeds: [feed] });
  const kafka = testKafka();
  try {
    // One partition keeps Kafka order, so the expected file content is exact.
    await kafka.ensureTopics([{ topic: feed.name, partitions: 1 }]);
    const days = ["2026-01-30", "2026-01-31", "2026-02-01"];
    const values = days.flatMap((day, d) =>
      [0, 1, 2].map((i) => `{"ID":"T${d}${i}","AMOUNT":${i + 0.5},"TS":"${day}T0${i}:15:00Z"}`)
    );
    // Interleave the days so every batch touches several files.
    const order = [0, 3, 6, 1, 4, 7, 2, 5, 8].map((i) => values[i]);
    await produce(kafka, order.map((value) => ({ topic: feed.name, key: null, value })));

    const stats = await consumeOnce(config, kafka);
    assert.equal(stats[feed.name].written, 9);
    assert.equal(stats[feed.name].rejected, 0);

    const root = config.dataLakeDir;
    const { partitions, strays } = await listPartitions(root, feed.name);
    assert.deepEqual(partitions.map((p) => p.date), days);
    assert.deepEqual(strays, []);
    for (const [d, day] of days.entries()) {
      const path = `${root}/${feed.name}/${day}/${feed.name}_${day}.jsonl`;
      assert.equal(partitionPath(root, feed.name, day), path);
      const expected = values.slice(d * 3, d * 3 + 3).join("\n") + "\n";
      assert.equal(await Deno.readTextFile(path), expected, `content of ${day}`);
    }
  } finally {
    await kafka.close();
  }
});

testWithKcat(
  "lake: bad records go to _rejected with a reason; the valid ones around them are all kept",
  async () => {
    const feed = streamFeed();
    const config = await testConfig({ feeds: [feed] });
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic: feed.name, partitions: 1 }]);
      const good = (i: number) => `{"ID":"G${i}","AMOUNT":1.5,"TS":"2026-03-04T10:00:00Z"}`;
      const producer = await kafka.producer();
      const bad: (string | null)[] = [
        '{"ID":"B1","TS":"2026-03-04T10:00:00Z"', // malformed JSON
        '{"ID":"B2","AMOUNT":2}', // missing time field
        '{"ID":"B3","AMOUNT":"ten","TS":"2026-03-04T10:00:00Z"}', // wrong type
        "[1,2,3]", // not an object
        '{"ID":"B5","TS":"yesterday"}', // invalid time
      ];
      const records = [];
      for (let i = 0; i < bad.length; i++) {
        records.push({ topic: feed.name, key: null, value: good(i) });
        records.push({ topic: feed.name, key: null, value: bad[i] });
      }
      records.push({ topic: feed.name, key: null, value: good(99) });
      await producer.send(records);
      await producer.close();
      // Binary garbage (invalid UTF-8), through kcat as raw bytes from a file.
      const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28]);
      const file = await Deno.makeTempFile();
      await Deno.writeFile(file, garbage);
      const kcat = await new Deno.Command("kcat", {
        args: ["-b", config.kafka.brokers[0], "-P", "-t", feed.name, file],
      }).output();
      assert.equal(kcat.code, 0);

      const stats = await consumeOnce(config, kafka);
      assert.equal(stats[feed.name].written, 6);
      assert.equal(stats[feed.name].rejected, 6);

      const lake = await readLines(partitionPath(config.dataLakeDir, feed.name, "2026-03-04"));
      assert.deepEqual(lake, [0, 1, 2, 3, 4, 99].map(good));

      const rejectedFiles = [];
      for await (const day of Deno.readDir(`${config.dataLakeDir}/_rejected/${feed.name}`)) {
        rejectedFiles.push(rejectedPath(config.dataLakeDir, feed.name, day.name));
      }
      const rejected = (await Promise.all(rejectedFiles.map(readLines))).flat().map((l) =>
        JSON.parse(l)
      );
      assert.equal(rejected.length, 6);
      const reasons = rejected.map((r) => r.reason as string);
      assert.match(reasons[0], /not valid JSON/);
      assert.match(reasons[1], /time field TS is missing/);
      assert.match(reasons[2], /AMOUNT is declared REAL/);
      assert.match(reasons[3], /not an object/);
      assert.match(reasons[4], /not an ISO 8601 time/);
      assert.match(reasons[5], /not valid UTF-8/);
      for (const r of rejected) {
        assert.equal(r.topic, feed.name);
        assert.equal(r.partition, 0);
        assert.equal(typeof r.offset, "string");
        assert.equal(typeof r.timestamp, "number");
      }
      assert.equal(rejected[0].valueUtf8, bad[0]);
      assert.deepEqual(
        new Uint8Array(atob(rejected[5].valueBase64).split("").map((c) => c.charCodeAt(0))),
        garbage,
      );
      assert.equal(rejected[5].valueUtf8, null);
    } finally {
      await kafka.close();
    }
  },
);

Deno.test("lake: overwrite keeps the latest value per key and a null value removes the key", async () => {
  const feed = tableFeed();
  const config = await testConfig({ feeds: [feed] });
  const kafka = testKafka();
  const day = "2026-05-06";
  const now = () => Date.parse(`${day}T12:00:00Z`);
  try {
    await kafka.ensureTopics([topicSpecForFeed(findFeed(config, feed.name)!)]);
    const row = (k: string, n: number) => ({
      topic: feed.name,
      key: k,
      value: JSON.stringify({ K: k, N: n }),
    });
    await produce(kafka, [row("a", 1), row("b", 1), row("c", 1), row("a", 2), row("b", 2)]);
    await consumeOnce(config, kafka, now);
    const path = partitionPath(config.dataLakeDir, feed.name, day);
    const first = (await readLines(path)).map((l) => JSON.parse(l));
    assert.deepEqual(sortByK(first), [{ K: "a", N: 2 }, { K: "b", N: 2 }, { K: "c", N: 1 }]);

    // A later run: one update, one tombstone; the file is the whole current table.
    await produce(kafka, [row("c", 3), { topic: feed.name, key: "a", value: null }]);
    await consumeOnce(config, kafka, now);
    const second = (await readLines(path)).map((l) => JSON.parse(l));
    assert.deepEqual(sortByK(second), [{ K: "b", N: 2 }, { K: "c", N: 3 }]);

    // The next day's snapshot starts from the latest one.
    await produce(kafka, [row("d", 1)]);
    await consumeOnce(config, kafka, () => Date.parse("2026-05-07T00:00:01Z"));
    const next = (await readLines(partitionPath(config.dataLakeDir, feed.name, "2026-05-07")))
      .map((l) => JSON.parse(l));
    assert.deepEqual(sortByK(next), [{ K: "b", N: 2 }, { K: "c", N: 3 }, { K: "d", N: 1 }]);
    assert.equal(
      (await readLines(path)).length,
      2,
      "the previous day's snapshot is left as it was",
    );
  } finally {
    await kafka.close();
  }
});

Deno.test("lake: ignore writes a partition once; a second batch for it is left out and counted", async () => {
  const feed = staticFeed();
  const config = await testConfig({ feeds: [feed] });
  const kafka = testKafka();
  const now = () => Date.parse("2026-07-08T09:00:00Z");
  try {
    await kafka.ensureTopics([topicSpecForFeed(findFeed(config, feed.name)!)]);
    const rate = (c: string, r: number) => ({
      topic: feed.name,
      key: c,
      value: JSON.stringify({ CURRENCY: c, RATE: r }),
    });
    await produce(kafka, [rate("EUR", 1.1), rate("GBP", 1.3)]);
    const first = await consumeOnce(config, kafka, now);
    assert.equal(first[feed.name].written, 2);
    const path = partitionPath(config.dataLakeDir, feed.name, "2026-07-08");
    const before = await Deno.readTextFile(path);

    await produce(kafka, [rate("EUR", 9.9), rate("JPY", 0.007), rate("CHF", 1.2)]);
    const second = await consumeOnce(config, kafka, now);
    assert.equal(second[feed.name].ignored, 3);
    assert.equal(second[feed.name].written, 0);
    assert.equal(await Deno.readTextFile(path), before);
  } finally {
    await kafka.close();
  }
});

testWithKcat("lake: messages produced by kcat are consumed correctly", async () => {
  const feed = streamFeed();
  const config = await testConfig({ feeds: [feed] });
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: feed.name, partitions: 1 }]);
    const lines = Array.from(
      { length: 20 },
      (_, i) => `{"ID":"K${i}","AMOUNT":${i},"TS":"2026-09-1${i % 2}T23:59:59.999Z","NOTE":"é ✓"}`,
    );
    await produceWithKcat(feed.name, lines.map((l, i) => `key${i}\t${l}`), true);
    const stats = await consumeOnce(config, kafka);
    assert.equal(stats[feed.name].written, 20);
    const even = await readLines(partitionPath(config.dataLakeDir, feed.name, "2026-09-10"));
    const odd = await readLines(partitionPath(config.dataLakeDir, feed.name, "2026-09-11"));
    assert.deepEqual(even, lines.filter((_, i) => i % 2 === 0));
    assert.deepEqual(odd, lines.filter((_, i) => i % 2 === 1));
  } finally {
    await kafka.close();
  }
});

function sortByK(rows: { K: string }[]) {
  return [...rows].sort((a, b) => a.K.localeCompare(b.K));
}
