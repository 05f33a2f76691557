/**
 * The one record contract (DESIGN.md, "Records from outside"): what every record from Kafka or
 * the API must be before it reaches a lake file, a topic or a warehouse table. Each check gives
 * a reason, never an exception: the caller quarantines (Kafka) or answers 400 (API).
 *
 * - Field names are safe and not reserved (names.ts); lookups are own properties only.
 * - Values follow values.ts (finite numbers in range, booleans are 0/1, no objects or arrays).
 * - The primary key is present and not empty; a stream's time field is inside the time window.
 * - `declaredOnly` (the API): fields not declared in the feed's columns are refused, so personal
 *   data cannot ride along on a POST; Kafka feeds may carry new fields (they become columns).
 */
import type { ColumnType, Feed } from "./feed.ts";
import { fieldNameProblem, shown } from "./names.ts";
import { dayOfTime, DEFAULT_TIME_WINDOW, type TimeWindow } from "./time.ts";
import { decodeText, valueProblem } from "./values.ts";

export type RecordFeed = Pick<Feed, "name" | "kind" | "primaryKey" | "columns" | "timeField">;

export interface RecordRules {
  /** Accepted event times. */
  window?: TimeWindow;
  /** Refuse fields the feed does not declare (the API). */
  declaredOnly?: boolean;
}

/** A JSON object from outside, parsed, or why it is not one. */
export function parseObject(
  bytes: Uint8Array,
): { fields: Record<string, unknown>; text: string } | { reason: string } {
  const decoded = decodeText(bytes);
  if ("reason" in decoded) return decoded;
  return parseObjectText(decoded.text);
}

/** Like parseObject, for text already decoded. */
export function parseObjectText(
  text: string,
): { fields: Record<string, unknown>; text: string } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `value is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    return { reason: `value is not a JSON object (JSON ${kind}, not an object)` };
  }
  return { fields: value as Record<string, unknown>, text };
}

/** The declared type of `column`, looked up as an own property (never Object.prototype's). */
export function declaredType(feed: Pick<Feed, "columns">, column: string): ColumnType | undefined {
  return Object.hasOwn(feed.columns, column) ? feed.columns[column] : undefined;
}

/** An own field of a record, or undefined (a record named "constructor" has no such field). */
export function fieldOf(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

/** Why `record` breaks the contract for `feed`, or undefined when it keeps it. */
export function recordProblem(
  feed: RecordFeed,
  record: Record<string, unknown>,
  rules: RecordRules = {},
): string | undefined {
  for (const name of Object.keys(record)) {
    const nameProblem = fieldNameProblem(name);
    if (nameProblem) return `field ${shown(name)} ${nameProblem}`;
    const type = declaredType(feed, name);
    if (rules.declaredOnly && type === undefined) {
      return `unknown field ${shown(name)}; declared: ${Object.keys(feed.columns).join(", ")}`;
    }
    const problem = valueProblem(record[name], type);
    if (problem) return `field ${name} ${problem}`;
  }
  for (const field of feed.primaryKey) {
    const v = fieldOf(record, field);
    if (v === undefined || v === null || v === "") return `primary-key field ${field} is missing`;
  }
  if (feed.kind === "stream" && feed.timeField) {
    const problem = eventDayOf(feed, record, rules.window ?? DEFAULT_TIME_WINDOW);
    if ("reason" in problem) return problem.reason;
  }
  return undefined;
}

/** The UTC day of a stream record's time field, or why it has none. */
export function eventDayOf(
  feed: Pick<Feed, "timeField">,
  record: Record<string, unknown>,
  window: TimeWindow,
): { day: string } | { reason: string } {
  const field = feed.timeField!;
  const value = fieldOf(record, field);
  if (value === undefined || value === null) return { reason: `time field ${field} is missing` };
  const day = dayOfTime(value, window);
  return "reason" in day ? { reason: `time field ${field} ${day.reason}` } : day;
}

/**
 * The key of a table-feed record. One key field: its value as text (as it always was). Several:
 * a JSON array of their texts, so ("a|b","c") and ("a","b|c") stay two records. The processor
 * and the API use it as the Kafka message key; the lake applies tombstones by it.
 */
export function recordKey(feed: Pick<Feed, "primaryKey">, value: Record<string, unknown>): string {
  const parts = feed.primaryKey.map((field) => String(fieldOf(value, field) ?? ""));
  return parts.length === 1 ? parts[0] : JSON.stringify(parts);
}

/**
 * A message key as recordKey writes it today. Composite keys written before were joined with
 * "|": such a key is read as its parts when it splits into exactly one part per key field
 * (ambiguous ones stay as they are: they never matched reliably).
 */
export function normalizeKey(feed: Pick<Feed, "primaryKey">, key: string): string {
  const n = feed.primaryKey.length;
  if (n === 1) return key;
  if (key.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(key);
      if (Array.isArray(parsed) && parsed.length === n) return key;
    } catch {
      // not the new form: read it as the old one
    }
  }
  const parts = key.split("|");
  return parts.length === n ? JSON.stringify(parts) : key;
}

/** The keys a composite record had under the old "|" form (erasure tombstones both). */
export function legacyRecordKey(
  feed: Pick<Feed, "primaryKey">,
  value: Record<string, unknown>,
): string {
  return feed.primaryKey.map((field) => String(fieldOf(value, field) ?? "")).join("|");
}

/** The texts of the key fields in a message key of either form (see normalizeKey). */
export function keyParts(feed: Pick<Feed, "primaryKey">, key: string): string[] {
  const normal = normalizeKey(feed, key);
  if (feed.primaryKey.length === 1) return [normal];
  try {
    const parsed: unknown = JSON.parse(normal);
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // neither form: the key as one part
  }
  return [normal];
}
