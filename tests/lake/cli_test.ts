/** `consume --once` through the real command line (main.ts with the flags of `deno task start`). */
import assert from "node:assert/strict";
import { checkpointPath, partitionPath } from "../../src/lake/layout.ts";
import { envOf, runMain, spawnMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { produce, readLines, streamFeed } from "./_fixtures.ts";

Deno.test("consume --once: a feed added only through FEEDS_FILE gets its own folder; a second run adds nothing", async () => {
  const name = uniqueName("LK_FILEFEED");
  const dir = await Deno.makeTempDir();
  const feedsFile = `${dir}/feeds.json`;
  await Deno.writeTextFile(
    feedsFile,
    JSON.stringify({
      feeds: [{ name, kind: "stream", primaryKey: ["ORDER_ID"], timeField: "CREATED_AT" }],
    }),
  );
  // settings.ts feeds stay in; FEEDS_FILE adds one.
  const config = await testConfig({ env: { FEEDS_FILE: feedsFile } });
  assert.ok(config.feeds.some((f) => f.name === name));
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
    const values = Array.from(
      { length: 30 },
      (_, i) => JSON.stringify({ ORDER_ID: `O${i}`, CREATED_AT: "2026-04-01T08:00:00Z" }),
    );
    await produce(kafka, values.map((value, i) => ({ topic: name, key: `k${i}`, value })));

    const env = { ...envOf(config), LOG_LEVEL: "debug" }; // lake.batch_written is per-batch detail
    const first = await runMain(["consume", "--once", "--feeds", name], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${name}\\s+30\\s+0\\s+0`));
    const path = partitionPath(config.dataLakeDir, name, "2026-04-01");
    assert.equal(path, `${config.dataLakeDir}/${name}/2026-04-01/${name}_2026-04-01.jsonl`);
    const lines = await readLines(path);
    assert.deepEqual([...lines].sort(), [...values].sort());
    assert.match(first.stderr, /"event":"lake.batch_written"/);

    const second = await runMain(["consume", "--once", "--feeds", name], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`${name}\\s+0\\s+0\\s+0`));
    assert.deepEqual(await readLines(path), lines, "nothing new: the lake is unchanged");
  } finally {
    await kafka.close();
  }
});

Deno.test("consume: unknown feeds in --feeds are one clear error naming them", async () => {
  const feed = streamFeed();
  const config = await testConfig({ feeds: [feed] });
  const result = await runMain(
    ["consume", "--once", "--feeds", "NOPE_ONE,NOPE_TWO"],
    envOf(config),
  );
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown feeds NOPE_ONE, NOPE_TWO/);
});

Deno.test("consume: SIGTERM stops cleanly: exit 0, a summary, and Kafka's offsets match the lake's checkpoint", async () => {
  const name = uniqueName("LK_TERM");
  const dir = await Deno.makeTempDir();
  const feedsFile = `${dir}/feeds.json`;
  await Deno.writeTextFile(
    feedsFile,
    JSON.stringify({ feeds: [{ name, kind: "stream", primaryKey: ["ID"], timeField: "TS" }] }),
  );
  const config = await testConfig({ env: { FEEDS_FILE: feedsFile } });
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
    const values = Array.from(
      { length: 3000 },
      (_, i) => JSON.stringify({ ID: `E${i}`, TS: "2026-04-02T08:00:00Z" }),
    );
    await produce(kafka, values.map((value, i) => ({ topic: name, key: `k${i}`, value })));

    const child = spawnMain(["consume", "--feeds", name], envOf(config));
    const output = child.output();
    const path = partitionPath(config.dataLakeDir, name, "2026-04-02");
    // Running (not --once): wait until it has written everything, then ask it to stop.
    while ((await readLines(path).catch(() => [])).length < values.length) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGTERM");
    const out = await output;
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, new RegExp(`${name}\\s+3000\\s+0\\s+0`));

    const checkpoint = JSON.parse(
      await Deno.readTextFile(checkpointPath(config.dataLakeDir, config.kafka.groupId)),
    );
    const committed = await kafka.committedOffsets(config.kafka.groupId, [name]);
    assert.equal(committed.length, 3, new TextDecoder().decode(out.stderr).slice(-3000));
    for (const o of committed) {
      assert.equal(o.offset, checkpoint.offsets[`${name}:${o.partition}`]);
    }
    assert.equal(committed.reduce((sum, o) => sum + Number(o.offset), 0), values.length);
  } finally {
    await kafka.close();
  }
});
