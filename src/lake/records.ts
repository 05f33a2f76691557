/**
 * What one Kafka record becomes in the lake: a line for a partition date, a tombstone (table
 * feeds), or a rejection with its reason. Pure functions: no files, no Kafka.
 */
import type { Feed } from "../config/feeds.ts";
import type { KafkaRecord } from "../kafka/client.ts";
import {
  eventDayOf,
  normalizeKey,
  parseObject,
  recordKey,
  recordProblem,
} from "../contract/record.ts";
import {
  dayOfTime,
  DEFAULT_TIME_WINDOW,
  TIME_WINDOW_LIMITS,
  utcDay,
  windowProblem,
} from "../contract/time.ts";
import { decodeText } from "../contract/values.ts";

export type Classified =
  | {
    kind: "line";
    /** UTC day of the partition (streams); tables and static data use the write day instead. */
    date: string;
    /** The record value as it came (one line; re-serialized only if it spanned lines). */
    line: Uint8Array;
    /** recordKey of the value (table feeds; empty for the others). */
    key: string;
  }
  | { kind: "tombstone"; key: string }
  | { kind: "rejected"; reason: string };

const encoder = new TextEncoder();

/** Decides where a record goes. `now` is the write time (table and static partitions). */
export function classify(feed: Feed, record: KafkaRecord, now: number): Classified {
  const window = feed.timeWindow ?? DEFAULT_TIME_WINDOW;
  // Kafka's own time places records without an event time, and files their rejections.
  const badTimestamp = record.timestamp >= 0 && windowProblem(record.timestamp, window);
  if (badTimestamp) return rejected(`Kafka timestamp ${record.timestamp} ${badTimestamp}`);
  const bytes = record.value;
  if (bytes === null || bytes.length === 0) {
    if (feed.kind !== "table") return rejected("empty value (null or zero bytes)");
    const key = record.key ? decodeOrNull(record.key) : null;
    if (!key) return rejected("tombstone (null value) without a message key");
    return { kind: "tombstone", key: normalizeKey(feed, key) };
  }

  const parsed = parseObject(bytes);
  if ("reason" in parsed) return rejected(parsed.reason);
  const { fields, text } = parsed;
  const problem = recordProblem(feed, fields, { window });
  if (problem) return rejected(problem);

  let date: string;
  if (feed.kind === "stream") {
    if (feed.timeField) {
      const day = eventDayOf(feed, fields, window);
      if ("reason" in day) return rejected(day.reason);
      date = day.day;
    } else {
      date = utcDay(record.timestamp >= 0 ? record.timestamp : now);
    }
  } else {
    date = utcDay(now);
  }

  // A value spanning lines would break the one-object-per-line format: store it compacted.
  const line = text.includes("\n") || text.includes("\r")
    ? encoder.encode(JSON.stringify(fields))
    : bytes;
  // Only overwrite feeds need the key; streams skip the work.
  return { kind: "line", date, line, key: feed.kind === "table" ? recordKey(feed, fields) : "" };
}

/**
 * The day a rejected record is filed under in the quarantine: its Kafka time when that is a sane
 * time, else the write time (a bad timestamp must not stop the partition either).
 */
export function quarantineDay(feed: Feed, record: KafkaRecord, now: number): string {
  const window = feed.timeWindow ?? DEFAULT_TIME_WINDOW;
  const ok = record.timestamp >= 0 && !windowProblem(record.timestamp, window);
  return utcDay(ok ? record.timestamp : now);
}

/** UTC day of an ISO 8601 time inside the default window, or null when it is not one. */
export function eventDay(value: unknown): string | null {
  const day = dayOfTime(value, DEFAULT_TIME_WINDOW);
  return "reason" in day ? null : day.day;
}

/** UTF-8 text of `bytes`, or null when they are not valid UTF-8 (or start with a BOM). */
function decodeOrNull(bytes: Uint8Array): string | null {
  const decoded = decodeText(bytes);
  return "reason" in decoded ? null : decoded.text;
}

function rejected(reason: string): Classified {
  return { kind: "rejected", reason };
}

/** One quarantine line: where the record came from, why it was refused, and its raw bytes. */
export function rejectionLine(record: KafkaRecord, reason: string, now: number): string {
  const value = record.value;
  const text = value ? decodeOrNull(value) : null;
  const key = record.key ? decodeOrNull(record.key) : null;
  return JSON.stringify({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    kafkaTime: record.timestamp >= 0 && !windowProblem(record.timestamp, TIME_WINDOW_LIMITS)
      ? new Date(record.timestamp).toISOString()
      : null,
    reason,
    key,
    valueBase64: value ? base64(value) : null,
    valueUtf8: text,
    rejectedAt: new Date(now).toISOString(),
  });
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
