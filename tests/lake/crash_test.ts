/** Exactly once after `kill -9`: a consumer killed mid-run, then `consume --once`. */
import assert from "node:assert/strict";
import { listPartitions } from "../../src/lake/layout.ts";
import {
  BROKERS,
  envOf,
  feedsFileConfig,
  runMain,
  spawnMain,
  testKafka,
  uniqueName,
} from "../helpers/env.ts";
import { testWithKcat } from "../helpers/needs.ts";

const TOTAL = 200_000;

testWithKcat(
  "crash: a consumer killed with SIGKILL mid-run, then consume --once: every record exactly once",
  async () => {
    const name = uniqueName("LK_CRASH");
    const { config, dir } = await feedsFileConfig({
      name,
      kind: "stream",
      primaryKey: ["TRANSACTION_ID"],
      timeField: "TIMESTAMP",
      columns: { TRANSACTION_ID: "TEXT", AMOUNT: "REAL", TIMESTAMP: "TEXT" },
    });
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
      // Produced fast, in large batches, by kcat from a file; spread over two days.
      const lines: string[] = [];
      for (let i = 0; i < TOTAL; i++) {
        const id = `TXN-${i.toString(16).padStart(8, "0")}`;
        const day = i % 2 === 0 ? "2026-06-01" : "2026-06-02";
        lines.push(
          `{"TRANSACTION_ID":"${id}","AMOUNT":${i % 1000}.25,"TIMESTAMP":"${day}T12:00:00Z"}`,
        );
      }
      const input = `${dir}/input.jsonl`;
      await Deno.writeTextFile(input, lines.join("\n") + "\n");
      const kcat = await new Deno.Command("kcat", {
        args: ["-b", BROKERS, "-P", "-t", name, "-l", "-X", "linger.ms=50", input],
      }).output();
      assert.equal(kcat.code, 0, new TextDecoder().decode(kcat.stderr));

      const env = envOf(config);
      const child = spawnMain(["consume", "--feeds", name], env);
      const output = child.output(); // drains the pipes while it runs
      const linesAtKill = await waitForGrowth(config.dataLakeDir, name);
      child.kill("SIGKILL");
      const killed = await output;
      assert.equal(killed.signal, "SIGKILL", new TextDecoder().decode(killed.stderr).slice(-2000));
      assert.ok(linesAtKill < TOTAL, `killed mid-run (${linesAtKill} lines in the lake)`);

      const resumed = await runMain(["consume", "--once", "--feeds", name], env);
      assert.equal(resumed.code, 0, resumed.stderr);

      const ids = new Set<string>();
      let count = 0;
      const { partitions } = await listPartitions(config.dataLakeDir, name);
      assert.deepEqual(partitions.map((p) => p.date), ["2026-06-01", "2026-06-02"]);
      for (const partition of partitions) {
        const text = await Deno.readTextFile(partition.path);
        for (const line of text.split("\n")) {
          if (!line) continue;
          count++;
          ids.add(JSON.parse(line).TRANSACTION_ID);
        }
      }
      assert.equal(ids.size, TOTAL, "every record is in the lake");
      assert.equal(count, TOTAL, "no record is there twice");
    } finally {
      await kafka.close();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

/** Waits until the feed's lake files have grown past a few megabytes; returns their lines. */
async function waitForGrowth(root: string, feed: string): Promise<number> {
  for (;;) {
    const { partitions } = await listPartitions(root, feed);
    if (partitions.reduce((sum, p) => sum + p.bytes, 0) > 2_000_000) {
      let lines = 0;
      for (const p of partitions) {
        const data = await Deno.readFile(p.path);
        for (const byte of data) if (byte === 0x0a) lines++;
      }
      return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
