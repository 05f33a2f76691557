/**
 * `stopWhenCaughtUp`: the ends every partition had when consuming started (the last stable offset
 * for read_committed readers, so an open transaction cannot keep us waiting), compared with where
 * the group is as batches finish.
 */
import { type Consumer, FetchIsolationLevels, ListOffsetTimestamps } from "@platformatic/kafka";
import type { ConsumeOptions } from "./client.ts";

export class CatchUp {
  #ends = new Map<string, bigint>();
  #positions = new Map<string, bigint>();

  static async measure(
    client: Consumer,
    options: Pick<ConsumeOptions, "topics" | "fromBeginning" | "readCommitted">,
  ): Promise<CatchUp> {
    const catchUp = new CatchUp();
    const { topics } = options;
    const metadata = await client.metadata({ topics });
    const isolationLevel = options.readCommitted === false
      ? FetchIsolationLevels.READ_UNCOMMITTED
      : FetchIsolationLevels.READ_COMMITTED;
    const [ends, starts] = await Promise.all([
      client.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST, isolationLevel }),
      client.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST }),
    ]);
    const committed = await client.listCommittedOffsets({
      topics: topics.map((topic) => ({
        topic,
        partitions: Array.from(
          { length: metadata.topics.get(topic)?.partitionsCount ?? 0 },
          (_, i) => i,
        ),
      })),
    });
    for (const topic of topics) {
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      for (let partition = 0; partition < count; partition++) {
        const id = `${topic}:${partition}`;
        const end = ends.get(topic)?.[partition] ?? 0n;
        const done = committed.get(topic)?.[partition] ?? -1n;
        const start = options.fromBeginning === false ? end : starts.get(topic)?.[partition] ?? 0n;
        catchUp.#ends.set(id, end);
        catchUp.#positions.set(id, done >= 0n ? done : start);
      }
    }
    return catchUp;
  }

  caughtUp(): boolean {
    for (const [id, end] of this.#ends) {
      if ((this.#positions.get(id) ?? 0n) < end) return false;
    }
    return true;
  }

  /** Records that the group is at `next` on a partition; true once every partition is caught up. */
  advance(topic: string, partition: number, next: bigint): boolean {
    const id = `${topic}:${partition}`;
    if (next > (this.#positions.get(id) ?? 0n)) this.#positions.set(id, next);
    return this.caughtUp();
  }
}
