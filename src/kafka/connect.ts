/** The one place that picks the Kafka client library. */
import type { Config } from "../config/config.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaClient } from "./client.ts";
import { PlatformaticClient } from "./platformatic.ts";
import type { KafkaHealth } from "./retry.ts";

/** `health`, when given, is told when the client's consumers reach Kafka or lose it. */
export function connectKafka(
  config: Pick<Config, "kafka">,
  log: Logger,
  health?: KafkaHealth,
): KafkaClient {
  return new PlatformaticClient(config.kafka, log.child({ component: "kafka" }), health);
}

/**
 * Closes `kafka`, waiting at most `ms`: a broker that is down can keep a close waiting for its
 * requests to time out, and a CLI command should not wait for that to print and exit. Never
 * rejects.
 */
export async function closeWithin(kafka: KafkaClient, ms = 1000): Promise<void> {
  const delay = new Promise<void>((resolve) =>
    Deno.unrefTimer(setTimeout(resolve, ms) as unknown as number)
  );
  await Promise.race([kafka.close().catch(() => {}), delay]);
}
