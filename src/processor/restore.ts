/**
 * Bounded restore: the state of the partitions an instance is given, from a local snapshot plus
 * the changelog written since (Kafka Streams' checkpoint file and changelog replay). A snapshot
 * records, per changelog partition, an offset X such that every committed record before X is in
 * its state; replaying [X, end) on top of it gives the current state, because changelog values
 * are whole values per key (replaying one twice changes nothing). A snapshot that is missing,
 * unreadable, of another topic (its id differs: the topic was deleted and created again) or ahead
 * of the topic's end is stale: the partition is read from the changelog's start. Only owned
 * partitions are read, so a restart costs the state's size plus what changed since the snapshot,
 * never the whole history.
 */
import type { Logger } from "../core/log.ts";
import type { KafkaClient, PartitionOffset, TransactionalProducer } from "../kafka/client.ts";
import type { StateDir } from "./state_dir.ts";

/** How one stage's state is built, saved and read back. */
export interface StateKind<T> {
  /** Names the snapshot files: `<name>-<input topic>-<partition>`. */
  name: string;
  empty(): T;
  fromSnapshot(state: unknown): T;
  toSnapshot(tables: T): unknown;
  /** Changelog topics of the state; partition p of each holds the state of input partition p. */
  changelogs: string[];
  /** Applies one changelog record (throws RangeError on a value it cannot take). */
  apply(tables: T, topic: string, key: string, value: Record<string, unknown> | null): void;
}

interface SnapshotFile {
  version: 1;
  changelogs: (PartitionOffset & { topicId: string | null })[];
  state: unknown;
}

export interface Restored<T> {
  tables: T;
  /** Changelog offsets the state covers (what the next snapshot may claim at least). */
  marks: PartitionOffset[];
}

export interface RestoreContext {
  kafka: KafkaClient;
  /** Places the throwaway reading group at the offsets to replay from (an offsets-only commit). */
  seeder: TransactionalProducer;
  stateDir: StateDir;
  log: Logger;
  groupId: string;
  input: string;
  /**
   * Decodes a registry-framed changelog value (OUTPUT_FORMAT=avro) to its JSON object, waiting
   * while the registry is down; absent without a registry.
   */
  decodeChangelog?(
    topic: string,
    bytes: Uint8Array,
  ): Promise<{ value: Record<string, unknown> } | { reason: string }>;
}

const decoder = new TextDecoder();

export function snapshotName(kind: { name: string }, input: string, partition: number): string {
  return `${kind.name}-${input}-${partition}`;
}

export async function writeSnapshot<T>(
  ctx: Pick<RestoreContext, "kafka" | "stateDir" | "input">,
  kind: StateKind<T>,
  partition: number,
  restored: Restored<T>,
): Promise<void> {
  const ids = await ctx.kafka.topicIds(kind.changelogs);
  const file: SnapshotFile = {
    version: 1,
    changelogs: restored.marks.map((m) => ({ ...m, topicId: ids.get(m.topic) ?? null })),
    state: kind.toSnapshot(restored.tables),
  };
  await ctx.stateDir.write(snapshotName(kind, ctx.input, partition), file);
}

/** Loads the state of `partitions`: snapshots where valid, then one replay of their changelogs. */
export async function restorePartitions<T>(
  ctx: RestoreContext,
  kind: StateKind<T>,
  partitions: number[],
): Promise<Map<number, Restored<T>>> {
  const started = performance.now();
  const ends = new Map<string, PartitionOffset[]>();
  for (const topic of kind.changelogs) ends.set(topic, await ctx.kafka.endOffsets(topic));
  const ids = await ctx.kafka.topicIds(kind.changelogs);
  const endOf = (topic: string, partition: number) =>
    BigInt(ends.get(topic)?.find((o) => o.partition === partition)?.offset ?? "0");

  const out = new Map<number, Restored<T>>();
  const from: PartitionOffset[] = [];
  let fromSnapshot = 0;
  for (const partition of partitions) {
    const snap = await ctx.stateDir.read(snapshotName(kind, ctx.input, partition));
    const usable = usableSnapshot(snap, kind, partition, ids, endOf);
    let tables: T | undefined;
    if (usable) {
      try {
        tables = kind.fromSnapshot(usable.state);
        fromSnapshot++;
      } catch (error) {
        ctx.log.warn("processor.snapshot_unreadable", {
          input: ctx.input,
          partition,
          error: (error as Error).message,
        });
      }
    }
    for (const topic of kind.changelogs) {
      const mark = tables && usable?.changelogs.find((c) => c.topic === topic);
      from.push({ topic, partition, offset: mark ? mark.offset : "0" });
    }
    out.set(partition, { tables: tables ?? kind.empty(), marks: [] });
  }

  const { read, skipped } = await replay(ctx, kind, from, ends, out);
  for (const [partition, restored] of out) {
    restored.marks = kind.changelogs.map((topic) => ({
      topic,
      partition,
      offset: endOf(topic, partition).toString(),
    }));
  }
  const fields = {
    stage: kind.name,
    input: ctx.input,
    partitions,
    fromSnapshot,
    changelogRecords: read,
    skipped,
    ms: Math.round(performance.now() - started),
  };
  // State brought back (a restart, partitions moved from another instance) is news; a cold
  // start that found nothing to restore is detail.
  if (fromSnapshot > 0 || read > 0) ctx.log.info("processor.partitions_restored", fields);
  else ctx.log.debug("processor.partitions_restored", fields);
  return out;
}

function usableSnapshot<T>(
  snap: unknown,
  kind: StateKind<T>,
  partition: number,
  ids: Map<string, string>,
  endOf: (topic: string, partition: number) => bigint,
): SnapshotFile | undefined {
  const file = snap as SnapshotFile | undefined;
  if (!file || file.version !== 1 || !Array.isArray(file.changelogs)) return undefined;
  for (const topic of kind.changelogs) {
    const mark = file.changelogs.find((c) => c?.topic === topic && c.partition === partition);
    if (!mark || typeof mark.offset !== "string" || !/^\d+$/.test(mark.offset)) return undefined;
    if ((ids.get(topic) ?? null) !== mark.topicId) return undefined;
    if (BigInt(mark.offset) > endOf(topic, partition)) return undefined;
  }
  return file;
}

/** Reads the changelogs from `from` to their ends into the partitions' tables. */
async function replay<T>(
  ctx: RestoreContext,
  kind: StateKind<T>,
  from: PartitionOffset[],
  ends: Map<string, PartitionOffset[]>,
  out: Map<number, Restored<T>>,
): Promise<{ read: number; skipped: number }> {
  // Partitions that are not ours start at their end: the reading group reads nothing of them.
  const wanted = new Set(from.map((f) => `${f.topic}:${f.partition}`));
  const seed = [...from];
  for (const [topic, offsets] of ends) {
    for (const o of offsets) if (!wanted.has(`${topic}:${o.partition}`)) seed.push(o);
  }
  const pending = from.filter((f) =>
    BigInt(f.offset) <
      BigInt(ends.get(f.topic)?.find((o) => o.partition === f.partition)?.offset ?? "0")
  );
  if (pending.length === 0) return { read: 0, skipped: 0 };

  const groupId = `${ctx.groupId}.restore.${crypto.randomUUID()}`;
  await ctx.seeder.sendWithOffsets([], {
    generation: { groupId, memberId: "", generationId: -1 },
    offsets: seed,
  });
  let read = 0;
  let skipped = 0;
  const handle = await ctx.kafka.consume({
    groupId,
    topics: kind.changelogs,
    commit: false,
    readCommitted: true,
    stopWhenCaughtUp: true,
    fromBeginning: true,
    maxBytesPerPartition: 1024 * 1024,
    onBatch: async (batch) => {
      const target = out.get(batch.partition);
      if (!target) return;
      for (const record of batch.records) {
        read++;
        const key = record.key === null ? null : decoder.decode(record.key);
        if (key === null) {
          skipped++;
          continue;
        }
        let value: Record<string, unknown> | null = null;
        // Avro values start with the wire format's zero byte, JSON ones with "{": a changelog
        // written before a switch of OUTPUT_FORMAT holds both.
        if (record.value !== null && record.value[0] === 0 && ctx.decodeChangelog) {
          const decoded = await ctx.decodeChangelog(batch.topic, record.value);
          if ("reason" in decoded) {
            skipped++;
            continue;
          }
          value = decoded.value;
        }
        try {
          if (value === null && record.value !== null) {
            value = JSON.parse(decoder.decode(record.value));
          }
          kind.apply(target.tables, batch.topic, key, value);
        } catch {
          skipped++;
        }
      }
    },
  });
  await handle.done;
  if (skipped > 0) ctx.log.warn("processor.restore_skipped", { records: skipped });
  return { read, skipped };
}
