/**
 * Size limits of what one produce call may carry, and the split of a record list into calls
 * that respect them. The broker refuses a partition's record batch above `message.max.bytes`
 * (1,048,588 by default, also the topic default `max.message.bytes`): every topic's share of
 * one call stays under MAX_CALL_TOPIC_BYTES, so each partition's batch does too. A single record
 * above MAX_RECORD_BYTES can never be sent; callers quarantine it rather than retry it forever.
 */
import { Buffer } from "node:buffer";
import { DataError } from "../core/errors.ts";
import type { OutgoingRecord } from "./client.ts";

/** A topic's bytes per produce call: under the broker's 1 MiB batch limit, with headroom. */
export const MAX_CALL_TOPIC_BYTES = 900 * 1024;
/** Largest single record a producer here will send (key, value and headers). */
export const MAX_RECORD_BYTES = MAX_CALL_TOPIC_BYTES - 1024;
/**
 * Records of one topic per produce call: calls stay moderate (one compressed batch per partition
 * each), and a transaction carries as many calls as it needs.
 */
export const MAX_CALL_TOPIC_RECORDS = 1000;

/** Kafka's per-record framing (length, attributes, deltas, header count), rounded up. */
export const RECORD_OVERHEAD = 24;
/** Per header: its name and value lengths and framing, rounded up. */
const HEADER_OVERHEAD = 10;

const utf8Length = (text: string | null): number =>
  text === null ? 0 : Buffer.byteLength(text, "utf8");

/** A value's bytes on the wire: UTF-8 text, or bytes as they are. */
const valueLength = (value: string | Uint8Array | null): number =>
  typeof value === "string" ? Buffer.byteLength(value, "utf8") : value?.length ?? 0;

/** The bytes `headers` take in a record (an upper bound). */
export function headerBytes(headers: Record<string, string> | undefined): number {
  let size = 0;
  for (const name in headers) {
    size += HEADER_OVERHEAD + utf8Length(name) + utf8Length(headers[name]);
  }
  return size;
}

/** The bytes `record` takes in an uncompressed record batch (an upper bound). */
export function recordBytes(record: OutgoingRecord): number {
  return RECORD_OVERHEAD + utf8Length(record.key) + valueLength(record.value) +
    headerBytes(record.headers);
}

/** True when `record` alone is too large for any produce call. */
export function isOversized(record: OutgoingRecord): boolean {
  return recordBytes(record) > MAX_RECORD_BYTES;
}

/**
 * The running size of one produce call per topic, for building calls one record at a time: a call
 * closes when one of its topics would pass MAX_CALL_TOPIC_BYTES or MAX_CALL_TOPIC_RECORDS.
 */
export class CallBudget {
  #perTopic = new Map<string, { bytes: number; count: number }>();

  /**
   * Counts an item of `size` bytes for `topic` when it fits in this call (the first of its topic
   * always does) and says whether it did. Throws a DataError for an item above MAX_RECORD_BYTES.
   */
  take(topic: string, size: number): boolean {
    if (size > MAX_RECORD_BYTES) {
      throw new DataError(
        `a record for ${topic} is ${size} bytes, over the ${MAX_RECORD_BYTES}-byte limit`,
      );
    }
    let used = this.#perTopic.get(topic);
    if (
      used &&
      (used.bytes + size > MAX_CALL_TOPIC_BYTES || used.count >= MAX_CALL_TOPIC_RECORDS)
    ) {
      return false;
    }
    if (!used) this.#perTopic.set(topic, used = { bytes: 0, count: 0 });
    used.bytes += size;
    used.count += 1;
    return true;
  }

  /** Starts the next call. */
  reset(): void {
    this.#perTopic = new Map();
  }
}

/**
 * Splits items into produce calls, keeping their order within each topic (CallBudget's rule).
 * Throws a DataError for an item above MAX_RECORD_BYTES (callers that can quarantine check
 * isOversized first).
 */
export function splitForProduce<T>(
  items: readonly T[],
  topicOf: (item: T) => string,
  bytesOf: (item: T) => number,
): T[][] {
  const calls: T[][] = [];
  let current: T[] = [];
  const budget = new CallBudget();
  for (const item of items) {
    const topic = topicOf(item);
    const size = bytesOf(item);
    if (!budget.take(topic, size)) {
      calls.push(current);
      current = [];
      budget.reset();
      budget.take(topic, size);
    }
    current.push(item);
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
