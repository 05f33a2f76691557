/** A fetched partition's record batches as one RecordBatch of the product's records. */
import type { Buffer } from "node:buffer";
import type { Consumer } from "@platformatic/kafka";
import type { GroupGeneration, KafkaRecord, RecordBatch, TopicPartition } from "./client.ts";
import { decodeHeaders } from "./pk_options.ts";

type FetchResponse = Awaited<ReturnType<Consumer["fetch"]>>;
export type FetchedPartition = FetchResponse["responses"][number]["partitions"][number];

/** Kafka's control-batch attribute bit (transaction markers). */
const CONTROL_BIT = 0x20;
const NO_HEADERS: [Buffer | null, Buffer | null][] = [];

/**
 * The records at or after `from`, in offset order, and where reading continues (past control
 * batches too); undefined when the answer holds nothing new.
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
  for (const batch of batches) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (end > next) next = end;
    if (batch.attributes & CONTROL_BIT) continue;
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
