/** The one place that picks the Kafka client library. */
import type { Config } from "../config/config.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaClient } from "./client.ts";
import { KafkaJsClient } from "./kafkajs.ts";

export function connectKafka(config: Pick<Config, "kafka">, log: Logger): KafkaClient {
  return new KafkaJsClient(config.kafka, log.child({ component: "kafka" }));
}
