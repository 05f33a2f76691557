/**
 * How one lake line becomes one row, under the record contract (src/contract): parsed, each
 * field checked against its column's type, never coerced except that a boolean is the integer
 * 0 or 1 (values.ts). A value that does not fit gives a reason (the record is rejected, counted,
 * reported); a field the table lacks is returned as a new column to add, typed from its value,
 * unless its name is unsafe or reserved (rowid aliases, prototype names, lineage columns).
 */
import type { ColumnType } from "../config/feeds.ts";
import { fieldNameProblem, shown } from "../contract/names.ts";
import { parseObjectText } from "../contract/record.ts";
import { numberProblem, type Scalar, storedValue, typeOfValue } from "../contract/values.ts";
import { columnNameProblem, type ColumnRoom } from "./limits.ts";

export type Value = string | number | null;

/** The columns a table has right now, by name. */
export interface ColumnSet {
  names: string[];
  types: ColumnType[];
  index: Map<string, number>;
  /** Upper-cased names: column names ignore case on both engines. */
  upper: Set<string>;
  /** How many more columns the engine takes (no limit when absent). */
  room?: ColumnRoom;
  /** Whether the engine returns text holding NUL characters exactly (else such lines go). */
  keepsNul: boolean;
}

export function columnSet(
  columns: { name: string; type: ColumnType }[],
  room?: ColumnRoom,
  keepsNul = true,
): ColumnSet {
  return {
    names: columns.map((c) => c.name),
    types: columns.map((c) => c.type),
    index: new Map(columns.map((c, i) => [c.name, i])),
    upper: new Set(columns.map((c) => c.name.toUpperCase())),
    room,
    keepsNul,
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
  const parsed = parseObjectText(text);
  if ("reason" in parsed) {
    return {
      ok: false,
      reason: parsed.reason.startsWith("value is not valid JSON")
        ? "line is not valid JSON"
        : "line is not a JSON object",
    };
  }
  const fields = parsed.fields;
  const values: Value[] = new Array(columns.names.length).fill(null);
  const newColumns: NewColumn[] = [];
  let newUpper: Set<string> | undefined;
  for (const name of Object.keys(fields)) {
    const raw = fields[name];
    const i = columns.index.get(name);
    if (i !== undefined) {
      const fitted = fit(name, columns.types[i], raw, columns.keepsNul);
      if (typeof fitted === "object" && fitted !== null) {
        return { ok: false, reason: fitted.reason };
      }
      values[i] = fitted;
      continue;
    }
    if (raw === null) continue; // no type to give it yet; nothing is lost
    const nameProblem = fieldNameProblem(name);
    if (nameProblem) {
      return {
        ok: false,
        reason: `field ${shown(name)} cannot be a column name: it ${nameProblem}`,
      };
    }
    newUpper ??= new Set(columns.upper);
    const clash = columnNameProblem(name, newUpper);
    if (clash) return { ok: false, reason: clash };
    newUpper.add(name.toUpperCase());
    const type = typeOfValue(raw);
    if (!type) return { ok: false, reason: `column ${name} holds ${kindOf(raw)}, not a value` };
    const fitted = fit(name, type, raw, columns.keepsNul);
    if (typeof fitted === "object" && fitted !== null) return { ok: false, reason: fitted.reason };
    newColumns.push({ name, type, value: fitted });
  }
  const room = newColumns.length > 0 ? columns.room?.problem(newColumns) : undefined;
  if (room) return { ok: false, reason: room };
  for (const key of primaryKey) {
    const i = columns.index.get(key);
    if (i === undefined || values[i] === null) {
      return { ok: false, reason: `primary key ${key} is missing` };
    }
  }
  return { ok: true, record: fields, values, newColumns };
}

/** The value to store, or why it does not fit. */
export function fit(
  column: string,
  type: ColumnType,
  value: unknown,
  keepsNul = true,
): Value | { reason: string } {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") {
    return { reason: `column ${column} holds ${kindOf(value)}, not a value` };
  }
  switch (type) {
    case "TEXT":
      if (typeof value !== "string") return { reason: `column ${column} is not text` };
      return textProblem(column, value, keepsNul) ?? value;
    case "INTEGER":
      if (typeof value === "boolean") return storedValue(value);
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return { reason: `column ${column} is not an integer` };
      }
      return inRange(column, value);
    case "REAL":
      if (typeof value === "boolean") return storedValue(value);
      return typeof value === "number"
        ? inRange(column, value)
        : { reason: `column ${column} is not a number` };
  }
}

/**
 * Text no engine would return as it came: a lone surrogate (UTF-8 has no form for it; both
 * engines would store U+FFFD, merging distinct keys), or a NUL where the engine cuts text at it.
 */
function textProblem(column: string, value: string, keepsNul: boolean) {
  if (!value.isWellFormed()) {
    return { reason: `column ${column} holds a lone surrogate (half a UTF-16 pair), not text` };
  }
  if (!keepsNul && value.includes("\0")) {
    return {
      reason: `column ${column} holds a NUL character, which this warehouse cannot return ` +
        `exactly (SQLite)`,
    };
  }
  return undefined;
}

function inRange(column: string, value: number): Value | { reason: string } {
  const problem = numberProblem(value);
  return problem ? { reason: `column ${column} ${problem}` } : storedValue(value as Scalar);
}

function kindOf(value: unknown): string {
  if (typeof value !== "object") return `a ${typeof value}`;
  return Array.isArray(value) ? "an array" : "an object";
}
