/**
 * OUTPUT_FORMAT=avro: the processor's derived feeds written as Avro in the Schema Registry wire
 * format, with schemas it registers under `<topic>-value` from the feeds' declared columns (as
 * ksqlDB does with VALUE_FORMAT='AVRO'). Keys stay text, tombstones null; the repartition and
 * quarantine topics are not outputs and stay as they are. Undefined with JSON outputs.
 */
import type { Config } from "../config/config.ts";
import type { Feed } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import type { RetryPolicy } from "../kafka/retry.ts";
import { SchemaRegistryClient } from "../registry/client.ts";
import { OutputEncoding } from "../registry/encode.ts";
import { waitForRegistry } from "../registry/waiting.ts";
import {
  type FeedRole,
  PROCESSOR_FEEDS,
  type ProcessorFeeds,
  type ProcessorTopics,
} from "./topics.ts";

export interface OutputsContext {
  config: Pick<Config, "outputFormat" | "schemaRegistry">;
  feeds: ProcessorFeeds;
  topics: ProcessorTopics;
  log: Logger;
  policy: RetryPolicy;
  signal?: AbortSignal;
}

export async function avroOutputs(ctx: OutputsContext): Promise<OutputEncoding | undefined> {
  const { config, feeds, topics } = ctx;
  if (config.outputFormat !== "avro" || !config.schemaRegistry) return undefined;
  const outputs = new Map<string, Feed>();
  for (const role of Object.keys(PROCESSOR_FEEDS) as FeedRole[]) {
    if (role !== "rates") outputs.set(topics[role], feeds[role]);
  }
  for (const [status, topic] of Object.entries(topics.byStatus)) {
    outputs.set(topic, feeds.byStatus[status]);
  }
  const client = new SchemaRegistryClient(config.schemaRegistry);
  const log = ctx.log.child({ component: "registry" });
  try {
    const encoding = await OutputEncoding.prepare(
      client,
      outputs,
      (topic, call) =>
        waitForRegistry(
          { name: topic, url: client.url, log, policy: ctx.policy, signal: ctx.signal },
          call,
        ),
    );
    log.info("processor.avro_outputs", { schemaIds: Object.fromEntries(encoding.schemaIds()) });
    return encoding;
  } finally {
    client.close();
  }
}
