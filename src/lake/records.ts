/**
 * What one Kafka record becomes in the lake: a line for a partition date, a tombstone (table
 * feeds), or a rejection with its reason. Pure functions: no files, no Kafka.
 */
import { Buffer } from "node:buffer";
import { type Feed, recordKey } from "../config/feeds.ts";
import type { KafkaRecord } from "../kafka/client.ts";
import { daysInMonth } from "../core/dates.ts";
import { dayOf } from "./layout.ts";

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

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** ISO 8601 date-time (or date) with an optional zone; no zone means UTC. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Decides where a record goes. `now` is the write time (table and static partitions). */
export function classify(feed: Feed, record: KafkaRecord, now: number): Classified {
  const bytes = record.value;
  if (bytes === null || bytes.length === 0) {
    if (feed.kind !== "table") return rejected("empty value (null or zero bytes)");
    const key = record.key ? decodeOrNull(record.key) : null;
    if (!key) return rejected("tombstone (null value) without a message key");
    return { kind: "tombstone", key };
  }

  const text = decodeOrNull(bytes);
  if (text === null) return rejected("value is not valid UTF-8 (binary data)");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return rejected(`value is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return rejected(
      `value is JSON ${Array.isArray(value) ? "array" : value === null ? "null" : typeof value}, ` +
        `not an object`,
    );
  }
  const fields = value as Record<string, unknown>;
  const problem = typeProblem(feed, fields);
  if (problem) return rejected(problem);

  let date: string;
  if (feed.kind === "stream") {
    if (feed.timeField) {
      const day = eventDay(fields[feed.timeField]);
      if (day === null) {
        return rejected(
          fields[feed.timeField] === undefined || fields[feed.timeField] === null
            ? `time field ${feed.timeField} is missing`
            : `time field ${feed.timeField} is not an ISO 8601 time: ${
              JSON.stringify(fields[feed.timeField])
            }`,
        );
      }
      date = day;
    } else {
      date = dayOf(record.timestamp >= 0 ? record.timestamp : now);
    }
  } else {
    date = dayOf(now);
  }

  // A value spanning lines would break the one-object-per-line format: store it compacted.
  const line = text.includes("\n") || text.includes("\r")
    ? encoder.encode(JSON.stringify(value))
    : bytes;
  // Only overwrite feeds need the key; streams skip the work.
  return { kind: "line", date, line, key: feed.kind === "table" ? recordKey(feed, fields) : "" };
}

/** A wrong type or a missing primary-key field, as a reason; undefined when the record fits. */
export function typeProblem(feed: Feed, value: Record<string, unknown>): string | undefined {
  for (const field of feed.primaryKey) {
    const v = value[field];
    if (v === undefined || v === null || v === "") return `primary-key field ${field} is missing`;
  }
  for (const column in feed.columns) {
    const v = value[column];
    if (v === undefined || v === null) continue;
    const type = feed.columns[column];
    if (type === "TEXT" ? typeof v !== "string" : typeof v !== "number") {
      return `field ${column} is declared ${type} but holds ${JSON.stringify(v)}`;
    }
    if (type === "INTEGER" && !Number.isInteger(v)) {
      return `field ${column} is declared INTEGER but holds ${v}`;
    }
  }
  return undefined;
}

/** UTC day of an ISO 8601 time, or null when it is not one (impossible dates included). */
export function eventDay(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const fast = utcDayFast(value);
  if (fast !== undefined) return fast;
  const m = ISO_TIME.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) {
    return null;
  }
  const zone = m[7];
  // Already UTC (the common case): the day is the first ten characters.
  if (zone === undefined || zone === "Z" || /^[+-]00:?00$/.test(zone)) return value.slice(0, 10);
  const normalized = `${value.slice(0, value.length - zone.length).replace(" ", "T")}${
    zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone
  }`;
  const ms = Date.parse(m[4] === undefined ? `${value.slice(0, 10)}T00:00${zone}` : normalized);
  return Number.isFinite(ms) ? dayOf(ms) : null;
}

/**
 * The common shape, `YYYY-MM-DDTHH:MM:SS[.fff]Z`, checked without a regex (it runs once per
 * record). Undefined means "not this shape": the general parser decides.
 */
function utcDayFast(s: string): string | null | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58
  ) return undefined;
  if (n > 20 && (n < 22 || n > 30 || s.charCodeAt(19) !== 46 /* . */)) return undefined;
  for (const i of DIGIT_AT) if (!isDigit(s.charCodeAt(i))) return undefined;
  for (let i = 20; i < n - 1; i++) if (!isDigit(s.charCodeAt(i))) return undefined;
  const year = num(s, 0, 4), month = num(s, 5, 2), day = num(s, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (num(s, 11, 2) > 23 || num(s, 14, 2) > 59 || num(s, 17, 2) > 59) return null;
  return s.slice(0, 10);
}

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function num(s: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/**
 * UTF-8 text of `bytes`, or null when they are not valid UTF-8. Node's Buffer decoding is about
 * twice as fast as TextDecoder but replaces bad bytes with U+FFFD, so only text holding U+FFFD
 * is checked again strictly.
 */
function decodeOrNull(bytes: Uint8Array): string | null {
  const text =
    (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))
      .toString("utf8");
  if (!text.includes("\uFFFD")) return text;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
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
    kafkaTime: Number.isFinite(record.timestamp) && record.timestamp >= 0
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
