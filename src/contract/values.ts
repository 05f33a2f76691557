/**
 * Values from outside: the bytes of a Kafka value as text, and one field value against its
 * column type. One rule for every reader (lake, processor, warehouse, API):
 * - text is strict UTF-8 without a byte-order mark (a BOM is refused, not stripped, so the lake
 *   and the processor agree on what a record is);
 * - a value is a string, a number, a boolean or null; objects and arrays are refused;
 * - numbers are finite and within ±MAX_ABS_NUMBER (sums of many stay finite and exact enough);
 * - a boolean is the integer 0 or 1: it fits INTEGER and REAL columns, never TEXT.
 */
import { Buffer } from "node:buffer";
import type { ColumnType } from "./feed.ts";

/** Largest magnitude a number field may hold. */
export const MAX_ABS_NUMBER = 1e15;

export type Scalar = string | number | boolean | null;

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The text of a value, or why it has none. Node's Buffer decoding is about twice as fast as
 * TextDecoder but replaces bad bytes with U+FFFD, so only text holding U+FFFD is checked again.
 */
export function decodeText(bytes: Uint8Array): { text: string } | { reason: string } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { reason: "value starts with a byte-order mark (U+FEFF); send UTF-8 without a BOM" };
  }
  const text =
    (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))
      .toString("utf8");
  if (!text.includes("\uFFFD")) return { text };
  try {
    return { text: strict.decode(bytes) };
  } catch {
    return { reason: "value is not valid UTF-8 (binary data)" };
  }
}

/** Why a number cannot be stored, or undefined when it can. */
export function numberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return "is not a finite number";
  if (Math.abs(value) > MAX_ABS_NUMBER) {
    return `${value} is outside the accepted range ±${MAX_ABS_NUMBER}`;
  }
  return undefined;
}

/**
 * Why `value` does not fit a field: against `type` when the column is known, else only the
 * rules every value follows. Undefined when it fits.
 */
export function valueProblem(value: unknown, type: ColumnType | undefined): string | undefined {
  // Most common first: this runs for every field of every record.
  switch (typeof value) {
    case "string":
      return type === undefined || type === "TEXT"
        ? undefined
        : `is declared ${type} but holds ${brief(value)}`;
    case "number": {
      if (value >= -MAX_ABS_NUMBER && value <= MAX_ABS_NUMBER) {
        if (type === "TEXT") return `is declared TEXT but holds ${value}`;
        if (type === "INTEGER" && !Number.isInteger(value)) {
          return `is declared INTEGER but holds ${value}`;
        }
        return undefined;
      }
      return numberProblem(value);
    }
    case "boolean":
      return type === "TEXT" ? `is declared TEXT but holds ${value}` : undefined;
    case "undefined":
      return undefined;
    case "object":
      if (value === null) return undefined;
      return `holds ${Array.isArray(value) ? "an array" : "an object"}, not a value`;
    default:
      return `holds a ${typeof value}, not a value`;
  }
}

/** The value as stored: booleans as 0/1, the rest as they are. */
export function storedValue(value: Scalar): string | number | null {
  return typeof value === "boolean" ? (value ? 1 : 0) : value;
}

/** The column type a first value gives a new column (booleans are integers). */
export function typeOfValue(value: unknown): ColumnType | undefined {
  if (typeof value === "string") return "TEXT";
  if (typeof value === "boolean") return "INTEGER";
  if (typeof value === "number") return Number.isInteger(value) ? "INTEGER" : "REAL";
  return undefined;
}

function brief(value: string): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
