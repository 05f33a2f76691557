/** Where a consumer starts reading its partitions, and where it goes on after losing its place. */
import { type Admin, type Consumer, ListOffsetTimestamps } from "@platformatic/kafka";
import type { Logger } from "../core/log.ts";
import type { TopicPartition } from "./client.ts";
import { errorTree } from "./errors.ts";
import { sleep } from "./retry.ts";

interface Assignment {
  topic: string;
  partitions: number[];
}

/** Where a group's committed offsets are read from. */
export interface CommittedOffsets {
  admin: Admin;
  groupId: string;
  /**
   * read_committed consumers ask for stable offsets (KIP-447's require_stable): while a
   * transaction that commits offsets of these partitions is open, or its markers are still being
   * written, the broker answers UNSTABLE_OFFSET_COMMIT instead of the offset from before it; a
   * new owner that started there would process that transaction's input a second time.
   */
  stable: boolean;
  /** Waiting for stable offsets ends (with the broker's error) once this says so. */
  stopped(): boolean;
  log: Logger;
}

/** How often a start asks again while offsets are unstable. */
const UNSTABLE_POLL_MS = 200;

/** The group's committed offsets, else the earliest (or, with fromBeginning false, latest). */
export async function startPositions(
  client: Consumer,
  source: CommittedOffsets,
  assignments: Assignment[],
  fromBeginning = true,
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (assignments.length === 0) return out;
  const committed = await committedOffsets(source, assignments);
  const missing: TopicPartition[] = [];
  for (const { topic, partitions } of assignments) {
    for (const partition of partitions) {
      const offset = committed.get(`${topic}:${partition}`) ?? -1n;
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

/**
 * The committed offsets of `assignments` by "topic:partition" (-1 for none). Unstable offsets
 * are waited for here, in place: the transaction that holds them ends within its timeout, and a
 * consumer that failed and rejoined instead would rebalance the whole group each time.
 */
async function committedOffsets(
  source: CommittedOffsets,
  assignments: Assignment[],
): Promise<Map<string, bigint>> {
  const topics = assignments.map((a) => ({ name: a.topic, partitionIndexes: a.partitions }));
  let waiting = false;
  for (;;) {
    try {
      const groups = await source.admin.listConsumerGroupOffsets({
        groups: [{ groupId: source.groupId, topics }],
        requireStable: source.stable,
      });
      const out = new Map<string, bigint>();
      for (const group of groups) {
        for (const { name, partitions } of group.topics) {
          for (const p of partitions) out.set(`${name}:${p.partitionIndex}`, p.committedOffset);
        }
      }
      return out;
    } catch (error) {
      const unstable = errorTree(error).some((e) =>
        (e as { apiId?: string }).apiId === "UNSTABLE_OFFSET_COMMIT"
      );
      if (!unstable || source.stopped()) throw error;
      if (!waiting) {
        waiting = true;
        source.log.debug("kafka.offsets_unstable", { group: source.groupId, topics });
      }
      await sleep(UNSTABLE_POLL_MS);
    }
  }
}
