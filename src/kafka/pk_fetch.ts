/**
 * One round of fetches of a consumer: the partitions that want records, grouped by their leader,
 * one request per leader on the consumer's fetch connections. A position out of range (retention
 * deleted it, the topic was recreated) goes on from the earliest (or latest) offset, with a
 * warning.
 */
import { type ConnectionPool, type Consumer, findErrorBy } from "@platformatic/kafka";
import type { Logger } from "../core/log.ts";
import type { ConsumeOptions, TopicPartition } from "./client.ts";
import { resetPositions } from "./pk_positions.ts";
import type { FetchedPartition } from "./pk_records.ts";

type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;

/** A partition to fetch, and where from (moved when its position is reset). */
export interface FetchTarget extends TopicPartition {
  fetchOffset: bigint;
}

export class Fetcher {
  #client: Consumer;
  #pool: ConnectionPool;
  #options: Pick<ConsumeOptions, "topics" | "maxBytesPerPartition" | "fromBeginning">;
  #log: Logger;

  constructor(
    client: Consumer,
    pool: ConnectionPool,
    options: Pick<ConsumeOptions, "topics" | "maxBytesPerPartition" | "fromBeginning">,
    log: Logger,
  ) {
    this.#client = client;
    this.#pool = pool;
    this.#options = options;
    this.#log = log;
  }

  /**
   * Fetches `wanted`; `deliver` gets each partition's answer. The broker holds an answer without
   * records up to `maxWaitMs`: long when every partition of the consumer is asked for, short when
   * some are left out (their batches in hand), so that those are asked for again soon.
   */
  async fetch<T extends FetchTarget>(
    wanted: T[],
    maxWaitMs: number,
    deliver: (target: T, answer: FetchedPartition) => void,
  ): Promise<void> {
    const metadata = await this.#client.metadata({ topics: this.#options.topics });
    const byNode = new Map<number, T[]>();
    for (const target of wanted) {
      const leader = metadata.topics.get(target.topic)?.partitions[target.partition]?.leader ?? -1;
      let list = byNode.get(leader);
      if (!list) byNode.set(leader, list = []);
      list.push(target);
    }
    await Promise.all([...byNode].map(async ([node, targets]) => {
      const topics = new Map<string, { topicId: string; partitions: T[] }>();
      for (const t of targets) {
        let entry = topics.get(t.topic);
        if (!entry) {
          topics.set(
            t.topic,
            entry = { topicId: metadata.topics.get(t.topic)!.id, partitions: [] },
          );
        }
        entry.partitions.push(t);
      }
      const response = await this.#fetchOrReset(node, topics, maxWaitMs);
      if (!response) return;
      const names = new Map([...topics].map(([name, { topicId }]) => [topicId, name]));
      for (const topicResponse of response.responses) {
        const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
        for (const answer of topicResponse.partitions) {
          const target = topics.get(topic)?.partitions.find((t) =>
            t.partition === answer.partitionIndex
          );
          if (target) deliver(target, answer);
        }
      }
    }));
  }

  async #fetchOrReset<T extends FetchTarget>(
    node: number,
    topics: Map<string, { topicId: string; partitions: T[] }>,
    maxWaitTime: number,
  ): Promise<FetchResponse | undefined> {
    const maxBytes = this.#options.maxBytesPerPartition ?? 4 * 1024 * 1024;
    try {
      return await this.#client.fetch({
        node,
        maxWaitTime,
        connectionPool: this.#pool,
        topics: [...topics.values()].map(({ topicId, partitions }) => ({
          topicId,
          partitions: partitions.map((t) => ({
            partition: t.partition,
            fetchOffset: t.fetchOffset,
            partitionMaxBytes: maxBytes,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        })),
      });
    } catch (error) {
      if (!findErrorBy(error as Error, "apiId", "OFFSET_OUT_OF_RANGE")) throw error;
      const targets = [...topics.values()].flatMap((t) => t.partitions);
      const reset = await resetPositions(this.#client, targets, this.#options.fromBeginning);
      for (const t of targets) {
        t.fetchOffset = reset.get(`${t.topic}:${t.partition}`) ?? t.fetchOffset;
        this.#log.warn("kafka.offset_reset", {
          topic: t.topic,
          partition: t.partition,
          offset: t.fetchOffset.toString(),
        });
      }
      return undefined;
    }
  }
}
