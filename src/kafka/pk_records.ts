/** A fetched partition's record batches as one RecordBatch of the product's records. */
import type { Buffer } from "node:buffer";
import type { Consumer } from "@platformatic/kafka";
import type { GroupGeneration, KafkaRecord, RecordBatch, TopicPartition } from "./client.ts";
import { decodeHeaders } from "./pk_options.ts";

type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;
export type FetchedPartition = FetchResponse["responses"][number]["partitions"][number];

/** Kafka's record-batch attribute bits: transactional, control (transaction markers). */
const TRANSACTIONAL_BIT = 0x10;
const CONTROL_BIT = 0x20;
/** A control record's key is (version int16, type int16); type 0 is an abort marker. */
const ABORT_MARKER = 0;
const NO_HEADERS: [Buffer | null, Buffer | null][] = [];

type RecordsBatch = NonNullable<FetchedPartition["records"]>[number];

/**
 * Which batches of a read_committed answer belong to aborted transactions. The answer lists the
 * aborted transactions (producer id, first offset) overlapping the fetched range, also those that
 * began before it; a producer's records are dropped from that first offset until its abort
 * marker, which may lie in a later fetch (that fetch lists the transaction again). The library
 * drops them only when the marker is in the same answer, and only the last aborted transaction
 * of each producer in it, so we apply the rule ourselves (as the Java client does).
 */
function abortedFilter(answer: FetchedPartition): (batch: RecordsBatch) => boolean {
  const pending = [...(answer.abortedTransactions ?? [])]
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const open = new Set<bigint>();
  return (batch) => {
    if (batch.producerId < 0n) return false;
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (pending.length > 0 && pending[0].firstOffset <= last) {
      open.add(pending.shift()!.producerId);
    }
    if (batch.attributes & CONTROL_BIT) {
      if (batch.records[0]?.key?.readInt16BE(2) === ABORT_MARKER) open.delete(batch.producerId);
      return false;
    }
    return (batch.attributes & TRANSACTIONAL_BIT) !== 0 && open.has(batch.producerId);
  };
}

/**
 * The records at or after `from`, in offset order, without those of aborted transactions, and
 * where reading continues (past control batches and aborted records too); undefined when the
 * answer holds nothing new. A batch may hold no records (all aborted, or only markers): its
 * nextOffset still moves the position and the commit.
 */
export function toBatch(
  { topic, partition }: TopicPartition,
  from: bigint,
  answer: FetchedPartition,
  generation: GroupGeneration,
): RecordBatch | undefined {
  const batches = answer.records;
  if (!batches || batches.length === 0) return undefined;
  const records: KafkaRecord[] = [];
  let next = from;
  const aborted = abortedFilter(answer);
  for (const batch of batches) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (end > next) next = end;
    if (aborted(batch) || batch.attributes & CONTROL_BIT) continue;
    const first = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const r of batch.records) {
      const offset = first + r.offsetDelta;
      if (offset < from) continue; // a compressed batch starts before the offset asked for
      records.push({
        topic,
        partition,
        offset: String(offset),
        key: r.key ?? null,
        value: r.value ?? null,
        timestamp: firstTimestamp + Number(r.timestampDelta),
        headers: r.headers.length === 0 ? {} : decodeHeaders(r.headers ?? NO_HEADERS),
      });
    }
  }
  if (next <= from) return undefined;
  return {
    topic,
    partition,
    records,
    nextOffset: next.toString(),
    highWatermark: answer.highWatermark.toString(),
    generation,
  };
}
