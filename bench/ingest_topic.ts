/**
 * Creates (as the product lays out stream topics) or deletes the benchmark's topic, so that a
 * million-message topic does not stay on the broker. Usage: ingest_topic.ts create|delete TOPIC
 */
import { Admin } from "@platformatic/kafka";
import { loadConfig } from "../src/config/config.ts";
import { createLogger } from "../src/core/log.ts";
import { connectKafka } from "../src/kafka/connect.ts";
import { rawTopicSpec } from "../src/kafka/topics.ts";

const [action, topic] = Deno.args;
const config = loadConfig();
if (action === "create") {
  const kafka = connectKafka(config, createLogger());
  try {
    await kafka.ensureTopics([rawTopicSpec(topic)]);
  } finally {
    await kafka.close();
  }
} else if (action === "delete") {
  // Deleting topics is not part of the product's Kafka interface; the bench uses the library.
  const admin = new Admin({ clientId: "bench", bootstrapBrokers: config.kafka.brokers });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.close();
  }
} else {
  console.error("usage: ingest_topic.ts create|delete TOPIC");
  Deno.exit(2);
}
