/**
 * Waits until a consumer group has committed the end of every partition of a topic (the
 * processor's stage one caught up), polling twice a second, bounded. Prints the seconds since
 * SINCE (epoch seconds, from the caller's clock) at that moment. Usage:
 * process_scale_wait.ts GROUP TOPIC SINCE [TIMEOUT_S]. For bench/process_scale.sh.
 */
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/core/log.ts";
import { closeWithin, connectKafka } from "../src/kafka/connect.ts";

const [group, topic, since, timeout = "900"] = Deno.args;
const kafka = connectKafka(loadConfig(), createLogger());
try {
  const ends = (await kafka.endOffsets(topic)).filter((e) => e.offset !== "0");
  const deadline = Date.now() + Number(timeout) * 1000;
  for (;;) {
    const committed = new Map(
      (await kafka.committedOffsets(group, [topic])).map((o) => [o.partition, o.offset]),
    );
    // Committed offsets may pass the end as counted at start by transaction markers.
    if (ends.every((e) => BigInt(committed.get(e.partition) ?? "-1") >= BigInt(e.offset))) break;
    if (Date.now() > deadline) throw new Error(`${group} did not catch up on ${topic}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log((Date.now() / 1000 - Number(since)).toFixed(2));
} finally {
  await closeWithin(kafka);
}
