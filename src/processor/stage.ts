/**
 * One stateful stage of the processor: a consumer group member on one input topic whose state is
 * kept per input partition (co-partitioned with its changelogs, layout.ts). Partitions given to
 * this member are restored (restore.ts) before their first batch; partitions taken away are
 * snapshotted and dropped. Each chunk of a batch goes out in one Kafka transaction with the offset
 * just past it, carrying the group generation the batch was fetched under (KIP-447): if the group
 * has moved on, the broker refuses the commit, the transaction aborts, and the partition's state,
 * which already holds the refused chunk, is dropped (reloaded if the partition comes back).
 *
 * Snapshots claim only changelog offsets read while this member certainly owned the partition:
 * the end offsets queried just before a transaction that then committed (a commit accepted under
 * the current generation proves nobody else wrote the partition yet), or those of the restore.
 */
import type { Logger } from "../core/log.ts";
import type {
  ConsumerHandle,
  KafkaClient,
  KafkaRecord,
  OutgoingRecord,
  PartitionOffset,
  RecordBatch,
  TransactionalProducer,
} from "../kafka/client.ts";
import { rootMessage } from "../kafka/retry.ts";
import {
  type RestoreContext,
  type Restored,
  restorePartitions,
  type StateKind,
  writeSnapshot,
} from "./restore.ts";
import type { StateDir } from "./state_dir.ts";

/**
 * Input records per Kafka transaction. Each transaction costs a few round trips and a commit
 * marker per partition, so they are large; the client splits their records into produce calls
 * under the broker's size limits (src/kafka/limits.ts).
 */
export const TRANSACTION_RECORDS = 5_000;
/**
 * Input records transformed at a time within a transaction. Each part's outputs go out in the
 * transaction's produce calls as they come and are let go: a transaction's outputs are several
 * times its input, and held together through its round trips they outlived the young generation
 * and filled the old one (peak RSS). About one produce call's worth (limits.ts).
 */
export const PART_RECORDS = 250;
/** A partition that has caught up is snapshotted at most this often (the tail of a stream). */
const CAUGHT_UP_SNAPSHOT_MS = 1_000;

export interface StageOptions<T> {
  kafka: KafkaClient;
  log: Logger;
  groupId: string;
  input: string;
  kind: StateKind<T>;
  producer: TransactionalProducer;
  seeder: TransactionalProducer;
  stateDir: StateDir;
  snapshotIntervalMs: number;
  fetchBytes: number;
  once: boolean;
  /** Starts turning one chunk of `partition` into its outputs, folding it into `tables`. */
  begin(tables: T, partition: number): ChunkRun;
  /**
   * Turns a chunk into what `transform` reads, before it runs (RAW_FORMAT=avro: decoded through
   * the Schema Registry, waiting while it is unreachable). What it cannot turn comes back as
   * `rejected` records (quarantine), sent in the chunk's transaction.
   */
  decode?(chunk: KafkaRecord[]): Promise<{ records: KafkaRecord[]; rejected: OutgoingRecord[] }>;
  /** Decodes Avro changelog values at restore (OUTPUT_FORMAT=avro); see restore.ts. */
  decodeChangelog?: RestoreContext["decodeChangelog"];
  /**
   * Called once a chunk's transaction committed, with the records it wrote per topic and the
   * time it took.
   */
  committed(chunk: KafkaRecord[], written: Map<string, number>, ms: ChunkTimes): void;
  /** Called on restored state before its first batch (evictions). */
  restored?(tables: T): void;
}

/**
 * One chunk's transformation: `add` is given the chunk PART_RECORDS at a time and returns each
 * part's outputs; `finish` returns those of the whole chunk (aggregates, one update per key).
 */
export interface ChunkRun {
  add(records: KafkaRecord[]): OutgoingRecord[];
  finish(): OutgoingRecord[];
}

export interface ChunkTimes {
  /** Turning input records into outputs. */
  transformMs: number;
  /** The Kafka transaction: produce calls, offsets, commit. */
  transactionMs: number;
}

interface Owned<T> extends Restored<T> {
  dueAt: number;
  lastSnapshotAt: number;
}

export interface Stage {
  done: Promise<void>;
  stop(): Promise<void>;
  /** Input partitions whose state is loaded here. */
  owned(): number[];
}

export async function startStage<T>(o: StageOptions<T>): Promise<Stage> {
  const parts = new Map<number, Owned<T>>();
  const ctx = { ...o, groupId: o.groupId };
  let stopping = false;

  const load = async (partitions: number[]) => {
    const missing = partitions.filter((p) => !parts.has(p));
    if (missing.length === 0) return;
    const restored = await restorePartitions(ctx, o.kind, missing);
    for (const [p, r] of restored) {
      o.restored?.(r.tables);
      parts.set(p, { ...r, dueAt: Date.now() + o.snapshotIntervalMs, lastSnapshotAt: -Infinity });
    }
  };
  const save = async (partition: number, owned: Owned<T>) => {
    try {
      await writeSnapshot(ctx, o.kind, partition, owned);
      owned.lastSnapshotAt = Date.now();
      owned.dueAt = owned.lastSnapshotAt + o.snapshotIntervalMs;
    } catch (error) {
      // A snapshot only shortens the next restore: without it the changelog is read instead.
      o.log.warn("processor.snapshot_failed", {
        stage: o.kind.name,
        partition,
        error: (error as Error).message,
      });
    }
  };
  const release = async (partitions: number[]) => {
    for (const p of partitions) {
      const owned = parts.get(p);
      if (!owned) continue;
      parts.delete(p);
      await save(p, owned);
    }
  };
  const changelogEnds = async (partition: number): Promise<PartitionOffset[]> => {
    const marks: PartitionOffset[] = [];
    for (const topic of o.kind.changelogs) {
      const end = (await o.kafka.endOffsets(topic)).find((e) => e.partition === partition);
      marks.push({ topic, partition, offset: end?.offset ?? "0" });
    }
    return marks;
  };

  const onBatch = async (batch: RecordBatch) => {
    // Clients that do not report assignments: the state is loaded at the first batch.
    if (!parts.has(batch.partition)) await load([batch.partition]);
    const owned = parts.get(batch.partition)!;
    for (let i = 0; i < batch.records.length || i === 0; i += TRANSACTION_RECORDS) {
      // Stopping between transactions is safe: the rest is read again from the offsets.
      if (stopping && i > 0) return;
      const chunk = batch.records.slice(i, i + TRANSACTION_RECORDS);
      const last = i + TRANSACTION_RECORDS >= batch.records.length;
      const next = last
        ? batch.nextOffset
        : (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
      const now = Date.now();
      const caughtUp = last && BigInt(batch.nextOffset) >= BigInt(batch.highWatermark);
      // --once snapshots each partition where it ends, so the next start replays nothing.
      const due = now >= owned.dueAt ||
        (caughtUp && (o.once || now - owned.lastSnapshotAt >= CAUGHT_UP_SNAPSHOT_MS));
      const marks = due ? await changelogEnds(batch.partition) : undefined;
      const decoded = o.decode ? await o.decode(chunk) : undefined;
      const input = decoded?.records ?? chunk;
      const run = o.begin(owned.tables, batch.partition);
      const written = new Map<string, number>();
      let transformMs = 0;
      let transformError: { error: unknown } | undefined;
      const transform = (part: () => OutgoingRecord[]) => {
        const started = performance.now();
        try {
          return part();
        } catch (error) {
          transformError = { error };
          throw error;
        } finally {
          transformMs += performance.now() - started;
        }
      };
      // Transformed part by part as the producer asks for records, so only the outputs of the
      // produce call in flight and of the one being filled are held at once.
      const outputs = function* (): Generator<OutgoingRecord> {
        for (let at = 0;; at += PART_RECORDS) {
          const last = at + PART_RECORDS >= input.length;
          const part = at < input.length
            ? transform(() => run.add(input.slice(at, at + PART_RECORDS)))
            : [];
          if (last) {
            for (const r of transform(() => run.finish())) part.push(r);
            if (decoded) { for (const r of decoded.rejected) part.push(r); }
          }
          for (const r of part) written.set(r.topic, (written.get(r.topic) ?? 0) + 1);
          yield* part;
          if (last) return;
        }
      };
      const started = performance.now();
      try {
        await o.producer.sendWithOffsets(outputs(), {
          generation: batch.generation,
          offsets: [{ topic: batch.topic, partition: batch.partition, offset: next }],
        });
      } catch (error) {
        // The state holds the chunk that did not commit: drop it, never snapshot it.
        parts.delete(batch.partition);
        if (transformError) throw transformError.error; // ours, not Kafka's refusal
        o.log.warn("processor.commit_refused", {
          stage: o.kind.name,
          partition: batch.partition,
          generation: batch.generation.generationId,
          error: (error as Error).message,
          // The client's summary line ("Producing messages failed.") hides what Kafka said.
          cause: rootMessage(error),
        });
        throw error;
      }
      o.committed(chunk, written, {
        transformMs,
        transactionMs: performance.now() - started - transformMs,
      });
      if (marks) {
        owned.marks = marks;
        await save(batch.partition, owned);
      }
    }
  };

  const handle: ConsumerHandle = await o.kafka.consume({
    groupId: o.groupId,
    topics: [o.input],
    commit: false,
    readCommitted: true,
    stopWhenCaughtUp: o.once,
    maxBytesPerPartition: o.fetchBytes,
    onBatch,
    onAssigned: (tps) => load(tps.filter((t) => t.topic === o.input).map((t) => t.partition)),
    onRevoked: (tps) => release(tps.filter((t) => t.topic === o.input).map((t) => t.partition)),
  });

  const done = handle.done.finally(async () => {
    // Leaving: what is still held is saved for the next start (offsets known to be ours).
    await release([...parts.keys()]);
  });
  return {
    done,
    stop: async () => {
      stopping = true;
      await handle.stop();
    },
    owned: () => [...parts.keys()],
  };
}
