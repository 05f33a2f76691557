/**
 * Our Kafka client's own consume rate, through the product's `consume` interface, with a handler
 * that does nothing (bench/client.sh): as the lake reads (one standalone consumer per topic,
 * 8 MiB per partition fetch, three partitions at once). Usage: ingest_client.ts TOPIC
 * Prints one JSON line: records, seconds (from the first batch to caught up) and total seconds.
 */
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { connectKafka } from "../src/kafka/connect.ts";

const [topic] = Deno.args;
const config = loadConfig();
const kafka = connectKafka(config, silentLogger);
const started = performance.now();
let first = 0;
let records = 0;
try {
  const handle = await kafka.consume({
    groupId: `bench-client-${crypto.randomUUID()}`,
    topics: [topic],
    assignAll: true,
    commit: false,
    stopWhenCaughtUp: true,
    maxBytesPerPartition: 8 * 1024 * 1024,
    partitionsConcurrently: 3,
    onBatch: (batch) => {
      first ||= performance.now();
      records += batch.records.length;
      return Promise.resolve();
    },
  });
  await handle.done;
} finally {
  await kafka.close();
}
const end = performance.now();
console.log(JSON.stringify({
  records,
  seconds: (end - (first || started)) / 1000,
  totalSeconds: (end - started) / 1000,
}));
