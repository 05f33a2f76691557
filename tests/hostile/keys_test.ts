/**
 * Issue 10 item 7: composite keys do not collide. ("a|b","c") and ("a","b|c") are two records in
 * the lake snapshot and two rows in the warehouse; a tombstone deletes only its own record.
 */
import assert from "node:assert/strict";
import { envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { feedsFile, jsonLines } from "./_helpers.ts";

Deno.test("table feed: keys holding the old separator stay distinct through lake and warehouse", async () => {
  const name = uniqueName("HK_TABLE");
  const config = await testConfig();
  const file = await feedsFile(config.root, [
    {
      name,
      kind: "table",
      primaryKey: ["A", "B"],
      columns: { A: "TEXT", B: "TEXT", N: "INTEGER" },
    },
  ]);
  const env = { ...envOf(config), FEEDS_FILE: file };
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: name, partitions: 1, compact: true }]);
    const producer = await kafka.producer();
    const rows = [
      { A: "a|b", B: "c", N: 1 },
      { A: "a", B: "b|c", N: 2 },
      { A: "x", B: "y", N: 3 },
    ];
    // Keyed as the processor and the API key them (recordKey of the value).
    await producer.send(rows.map((r) => ({
      topic: name,
      key: JSON.stringify([r.A, r.B]),
      value: JSON.stringify(r),
    })));
    // A tombstone written with the old "x|y" key still deletes ("x","y").
    await producer.send([{ topic: name, key: "x|y", value: null }]);
    await producer.close();

    const consumed = await runMain(["consume", "--once", "--feeds", name], env);
    assert.equal(consumed.code, 0, consumed.stderr);
    const lake = await jsonLines(config.dataLakeDir, `${name}/`);
    const latest = lake.filter((l) => !("reason" in l));
    assert.deepEqual(latest.map((l) => l.N).sort(), [1, 2]);

    const loaded = await runMain(["load", "--feeds", name], env);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, new RegExp(`${name}: 2 inserted`));
  } finally {
    await kafka.close();
    await Deno.remove(config.root, { recursive: true }).catch(() => {});
  }
});
