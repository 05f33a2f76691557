/**
 * The fetch loop against the real broker while one partition's next batch waits behind the batch
 * in hand: the other partitions, with nothing new, are not polled in a tight loop (a short poll
 * every few milliseconds was hundreds of empty fetches a second per consumer in `serve`: CPU and
 * garbage). Fetches are counted on the client library's own diagnostics channel.
 */
import assert from "node:assert/strict";
import { consumerFetchesChannel } from "@platformatic/kafka";
import { Logger } from "../../src/core/log.ts";
import type { ConsumerHandle } from "../../src/kafka/client.ts";
import { connectKafka } from "../../src/kafka/connect.ts";
import { BROKERS, uniqueName } from "../helpers/env.ts";

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface FetchContext {
  options: { topics: { partitions: { partition: number }[] }[] };
}

/** How long the fetches are counted while partition 0 is held. */
const WINDOW_MS = 3000;

for (const assignAll of [true, false]) {
  Deno.test(`fetch loop (${assignAll ? "standalone" : "group member"}): partitions with nothing new are not polled in a tight loop while another's batch is held`, async () => {
    const kafka = connectKafka({
      kafka: { brokers: BROKERS.split(","), groupId: "unused", clientId: "tests" },
    }, new Logger({ level: "error", sink: { write: () => {} } }));
    const topic = uniqueName("t_idle_fetch");
    const groupId = uniqueName("g").toLowerCase();
    // Fetch rounds that leave partition 0 out (its next batch waits in the queue), by start time.
    const partialFetches: number[] = [];
    const onStart = (message: unknown) => {
      const asked = (message as FetchContext).options.topics
        .flatMap((t) => t.partitions.map((p) => p.partition));
      if (asked.length > 0 && !asked.includes(0)) partialFetches.push(performance.now());
    };
    consumerFetchesChannel.start.subscribe(onStart);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let handle: ConsumerHandle | undefined;
    try {
      await kafka.ensureTopics([{ topic, partitions: 3 }]);
      const producer = await kafka.producer();
      const toPartition0 = (from: number) =>
        producer.send(
          Array.from({ length: 10 }, (_, i) => ({
            topic,
            key: `k${from + i}`,
            value: `v${from + i}`,
            partition: 0,
          })),
        );
      await toPartition0(0);
      handle = await kafka.consume({
        groupId,
        topics: [topic],
        assignAll,
        fromBeginning: true,
        partitionsConcurrently: 3,
        onBatch: async (batch) => {
          if (batch.partition === 0 && held++ === 0) await released;
        },
      });
      await until("the first batch of partition 0 in hand", () => held === 1);
      // Its next batch is fetched and waits in the queue: from then on rounds leave partition 0 out.
      await toPartition0(10);
      await until("a round without partition 0", () => partialFetches.length > 0);
      const from = partialFetches[0];
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
      const inWindow = partialFetches.filter((t) => t - from < WINDOW_MS).length;
      release();
      await until("the queued batch of partition 0", () => held === 2);
      // A long poll's wait between empty rounds: about WINDOW_MS / 500 ms of them, 2 fetches
      // each. The tight loop (a 10 ms poll after another) made hundreds.
      assert.ok(
        inWindow <= 30,
        `${inWindow} fetch rounds for the idle partitions in ${WINDOW_MS} ms`,
      );
    } finally {
      release();
      consumerFetchesChannel.start.unsubscribe(onStart);
      await handle?.stop();
      await kafka.close();
    }
  });
}
