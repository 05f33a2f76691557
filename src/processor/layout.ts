/**
 * Partition counts of the processor's topics, which several instances depend on:
 *
 * - USER_SPENDING_BY_TYPE and USERS have at least as many partitions as the raw topic (P), and
 *   the per-user updates of raw partition p go to their partition p: the state of p is exactly
 *   their partition p (co-partitioning, as Kafka Streams requires for joins and tables).
 * - The repartition topic (R partitions, fixed once created) carries window deltas to partition
 *   typePartition(type, R); SPEND_LAST_FIVE_MIN_BY_TYPE has at least R partitions and a type's
 *   windows go to the same partition number: the windows state of q is exactly its partition q.
 *
 * Topics that exist are never changed: a layout that breaks these rules is a ConfigError naming
 * the topic, before anything is processed.
 */
import { ConfigError } from "../core/errors.ts";
import type { KafkaClient, TopicSpec } from "../kafka/client.ts";
import { rawTopicSpec } from "../kafka/topics.ts";
import {
  type ProcessorFeeds,
  type ProcessorTopics,
  processorTopicSpecs,
  repartitionTopic,
} from "./topics.ts";

export interface Layout {
  /** Partitions of the raw topic (P). */
  rawPartitions: number;
  /** The internal repartition topic and its partition count (R). */
  repartition: { topic: string; partitions: number };
  /** Partition counts of the derived stream topics. */
  streamPartitions: Map<string, number>;
}

/** Creates what is missing and checks the partition counts of what exists. */
export async function prepareTopics(
  kafka: KafkaClient,
  feeds: ProcessorFeeds,
  topics: ProcessorTopics,
  processorGroupId: string,
): Promise<Layout> {
  const internal = repartitionTopic(processorGroupId);
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(internal)) {
    throw new ConfigError(
      `KAFKA_GROUP_ID must hold only letters, digits, ".", "_" and "-": the processor names its ` +
        `internal topic after it (${JSON.stringify(internal)})`,
    );
  }
  await kafka.ensureTopics([rawTopicSpec(topics.raw)]);
  const rawPartitions = await partitionCount(kafka, topics.raw);
  const perUser = new Set([topics.userSpending, topics.users]);
  const specs: TopicSpec[] = processorTopicSpecs(feeds, topics).map((spec) =>
    perUser.has(spec.topic)
      ? { ...spec, partitions: Math.max(spec.partitions ?? 1, rawPartitions) }
      : spec
  );
  await kafka.ensureTopics(specs);
  for (const topic of perUser) {
    const n = await partitionCount(kafka, topic);
    if (n < rawPartitions) {
      throw new ConfigError(
        `topic ${topic} has ${n} partitions, fewer than the ${rawPartitions} of the raw topic ` +
          `${topics.raw}: per-user state follows the raw partitions, so it needs at least as ` +
          `many (add partitions to ${topic}, or use a new PROCESSOR_TOPIC_PREFIX)`,
      );
    }
  }
  const windowPartitions = await partitionCount(kafka, topics.windows);
  const existing = new Set(await kafka.listTopics());
  if (!existing.has(internal)) {
    await kafka.ensureTopics([{ topic: internal, partitions: windowPartitions }]);
  }
  const partitions = await partitionCount(kafka, internal);
  if (windowPartitions < partitions) {
    throw new ConfigError(
      `topic ${topics.windows} has ${windowPartitions} partitions, fewer than the ${partitions} ` +
        `of ${internal}: a type's windows follow its repartition partition`,
    );
  }
  const streams = [
    topics.secure,
    topics.usd,
    topics.blacklisted,
    ...Object.values(topics.byStatus),
  ];
  const streamPartitions = new Map<string, number>();
  for (const topic of streams) streamPartitions.set(topic, await partitionCount(kafka, topic));
  return { rawPartitions, repartition: { topic: internal, partitions }, streamPartitions };
}

/**
 * The partition of a derived stream record of raw partition p: p modulo the stream topic's count.
 * A user is in one raw partition, so in one partition of each stream (per-user order holds), and
 * the producer hashes no key (murmur2 was 7 % of the processor's CPU).
 */
export function streamPartition(rawPartition: number, streamPartitions: number): number {
  return rawPartition % streamPartitions;
}

async function partitionCount(kafka: KafkaClient, topic: string): Promise<number> {
  return (await kafka.endOffsets(topic)).length;
}

/** The repartition partition of a transaction type: FNV-1a of its UTF-16 code units, mod R. */
export function typePartition(type: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < type.length; i++) {
    h ^= type.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}
