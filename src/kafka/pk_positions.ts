/** Where a consumer starts reading its partitions, and where it goes on after losing its place. */
import { type Consumer, ListOffsetTimestamps } from "@platformatic/kafka";
import type { TopicPartition } from "./client.ts";

interface Assignment {
  topic: string;
  partitions: number[];
}

/** The group's committed offsets, else the earliest (or, with fromBeginning false, latest). */
export async function startPositions(
  client: Consumer,
  assignments: Assignment[],
  fromBeginning = true,
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (assignments.length === 0) return out;
  const committed = await client.listCommittedOffsets({ topics: assignments });
  const missing: TopicPartition[] = [];
  for (const { topic, partitions } of assignments) {
    for (const partition of partitions) {
      const offset = committed.get(topic)?.[partition] ?? -1n;
      if (offset >= 0n) out.set(`${topic}:${partition}`, offset);
      else missing.push({ topic, partition });
    }
  }
  for (const [id, offset] of await resetPositions(client, missing, fromBeginning)) {
    out.set(id, offset);
  }
  return out;
}

/**
 * The earliest (or latest) offset of each partition: where reading goes on when a position is
 * out of range (retention deleted it, or the topic was recreated and is shorter).
 */
export async function resetPositions(
  client: Consumer,
  partitions: TopicPartition[],
  fromBeginning = true,
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (partitions.length === 0) return out;
  const byTopic: Record<string, number[]> = {};
  for (const { topic, partition } of partitions) (byTopic[topic] ??= []).push(partition);
  const offsets = await client.listOffsets({
    topics: Object.keys(byTopic),
    partitions: byTopic,
    timestamp: fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
  });
  for (const { topic, partition } of partitions) {
    out.set(`${topic}:${partition}`, offsets.get(topic)?.[partition] ?? 0n);
  }
  return out;
}
