/**
 * How one lake line becomes one row: parsed, each field checked against its column's type, never
 * coerced. A value that does not fit gives a reason (the record is rejected, counted, reported);
 * a field the table lacks is returned as a new column to add, typed from its value.
 */
import type { ColumnType } from "../config/feeds.ts";
import { FIELD_NAME } from "../config/feeds.ts";
import { inferColumnType, RESERVED_COLUMNS } from "./schema.ts";

export type Value = string | number | null;

/** The columns a table has right now, by name. */
export interface ColumnSet {
  names: string[];
  types: ColumnType[];
  index: Map<string, number>;
  /** Upper-cased names: SQLite column names ignore case. */
  upper: Set<string>;
}

export function columnSet(columns: { name: string; type: ColumnType }[]): ColumnSet {
  return {
    names: columns.map((c) => c.name),
    types: columns.map((c) => c.type),
    index: new Map(columns.map((c, i) => [c.name, i])),
    upper: new Set(columns.map((c) => c.name.toUpperCase())),
  };
}

export type ParsedRecord =
  | { ok: true; record: Record<string, unknown>; values: Value[]; newColumns: NewColumn[] }
  | { ok: false; reason: string };

export interface NewColumn {
  name: string;
  type: ColumnType;
  value: Value;
}

/**
 * Parses a line and maps it onto `columns`. `values[i]` is the value for `columns.names[i]`; new
 * columns come after, in `newColumns` order (the caller adds them, then appends their values).
 */
export function parseRecord(
  text: string,
  columns: ColumnSet,
  primaryKey: readonly string[],
): ParsedRecord {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return { ok: false, reason: "line is not valid JSON" };
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return { ok: false, reason: "line is not a JSON object" };
  }
  const fields = record as Record<string, unknown>;
  const values: Value[] = new Array(columns.names.length).fill(null);
  const newColumns: NewColumn[] = [];
  for (const name in fields) {
    const raw = fields[name];
    const i = columns.index.get(name);
    if (i !== undefined) {
      const fitted = fit(name, columns.types[i], raw);
      if (typeof fitted === "object" && fitted !== null) {
        return { ok: false, reason: fitted.reason };
      }
      values[i] = fitted;
      continue;
    }
    if (raw === null) continue; // no type to give it yet; nothing is lost
    const upper = name.toUpperCase();
    if (!FIELD_NAME.test(name) || RESERVED_COLUMNS.has(upper)) {
      return { ok: false, reason: `field ${JSON.stringify(name)} cannot be a column name` };
    }
    if (columns.upper.has(upper)) {
      return { ok: false, reason: `field ${name} clashes with an existing column of another case` };
    }
    const type = inferColumnType(raw);
    if (!type) return { ok: false, reason: `column ${name} holds ${kindOf(raw)}, not a value` };
    newColumns.push({ name, type, value: typeof raw === "boolean" ? (raw ? 1 : 0) : raw as Value });
  }
  for (const key of primaryKey) {
    const i = columns.index.get(key);
    if (i === undefined || values[i] === null) {
      return { ok: false, reason: `primary key ${key} is missing` };
    }
  }
  return { ok: true, record: fields, values, newColumns };
}

/** The value to store, or why it does not fit. */
export function fit(column: string, type: ColumnType, value: unknown): Value | { reason: string } {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") {
    return { reason: `column ${column} holds ${kindOf(value)}, not a value` };
  }
  switch (type) {
    case "TEXT":
      return typeof value === "string" ? value : { reason: `column ${column} is not text` };
    case "INTEGER":
      if (typeof value === "boolean") return value ? 1 : 0;
      return typeof value === "number" && Number.isInteger(value)
        ? value
        : { reason: `column ${column} is not an integer` };
    case "REAL":
      return typeof value === "number" ? value : { reason: `column ${column} is not a number` };
  }
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? "an array" : "an object";
}
