/**
 * `process --once` on the bench's own topics (bench/process.sh): the same startProcessor the
 * command runs, with every derived feed renamed OUTPUT_PREFIX + feed name and the rates read
 * from RATES_TOPIC, so runs on a shared broker never mix with each other or with production
 * feeds. Prints the command's own summary line.
 */
import { loadConfig } from "../src/config/config.ts";
import { STATUSES } from "../src/config/settings.ts";
import { createLogger } from "../src/core/log.ts";
import { closeWithin, connectKafka } from "../src/kafka/connect.ts";
import { startProcessor } from "../src/processor/processor.ts";
import { PROCESSOR_FEEDS, type ProcessorTopics } from "../src/processor/topics.ts";
import { statusFeedName } from "../src/processor/transform.ts";

const prefix = Deno.env.get("OUTPUT_PREFIX") ?? "";
const ratesTopic = Deno.env.get("RATES_TOPIC") ?? PROCESSOR_FEEDS.rates;
const topics: Partial<ProcessorTopics> = {
  ...Object.fromEntries(
    Object.entries(PROCESSOR_FEEDS).map(([role, feed]) => [role, prefix + feed]),
  ),
  rates: ratesTopic,
  byStatus: Object.fromEntries(STATUSES.map((s) => [s, prefix + statusFeedName(s)])),
};

const config = loadConfig();
const log = createLogger();
const kafka = connectKafka(config, log);
try {
  const stats = await startProcessor({ config, kafka, log, once: true, topics }).done;
  const out = Object.values(stats.out).reduce((a, b) => a + b, 0);
  const seconds = Math.max(stats.processingMs / 1000, 0.001);
  console.log(
    `processed ${stats.recordsIn} raw transactions: ${out} records out, ` +
      `${stats.rejected} quarantined to ${config.rejectedTopic} ` +
      `(${seconds.toFixed(2)} s: ${Math.round(stats.recordsIn / seconds)} records/s in, ` +
      `${Math.round(out / seconds)} records/s out)`,
  );
} finally {
  await closeWithin(kafka);
}
