/**
 * Avro records as lake lines. A writer schema (fetched by id) becomes a Shape: the columns of the
 * lake record, each with its warehouse type and how its value is read from a decoded record.
 * Nested records are flattened (`address.city` → column `address_city`); arrays and maps are kept
 * as JSON text; unions take their branch's value; bytes and fixed are base64; logical types are
 * mapped by avro_logical.ts. The README's "Topics with a schema" lists the whole mapping.
 */
import avro from "avsc";
import type { ColumnType } from "../config/feeds.ts";
import { LOGICAL_TYPES } from "./avro_logical.ts";
import { SchemaError } from "./errors.ts";
import type { Shape, ShapeColumn } from "./shape.ts";

type AvroType = avro.Type & {
  typeName: string;
  fields?: { name: string; type: AvroType }[];
  types?: AvroType[];
  itemsType?: AvroType;
  valuesType?: AvroType;
  branchName?: string;
  underlyingType?: AvroType;
};

/** Parses an Avro schema text (JSON) into an avsc type that decodes as the lake wants. */
export function avroType(schemaText: string): avro.Type {
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
  } catch (error) {
    throw new SchemaError(`the Avro schema is not JSON: ${(error as Error).message}`);
  }
  try {
    // Unions always wrapped ({branch: value}): the branch is known, never guessed from the value.
    return avro.Type.forSchema(schema as avro.Schema, {
      wrapUnions: true,
      logicalTypes: LOGICAL_TYPES,
    });
  } catch (error) {
    throw new SchemaError(`the Avro schema is not valid: ${(error as Error).message}`);
  }
}

/** The shape of records written with `type`; the top-level type must be a record. */
export function avroShape(type: avro.Type): Shape {
  const t = type as AvroType;
  if (t.typeName !== "record") {
    throw new SchemaError(
      `the top-level Avro type is ${t.typeName}, not a record (a lake line is an object)`,
    );
  }
  const columns: ShapeColumn[] = [];
  flatten(t, "", (v) => v, columns);
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name.toUpperCase())) {
      throw new SchemaError(`two fields become the same column ${c.name} once flattened`);
    }
    seen.add(c.name.toUpperCase());
  }
  return { columns };
}

/** Decodes an Avro payload and returns the lake object (throws on a payload that is not one). */
export function decodeAvro(type: avro.Type, shape: Shape, payload: Uint8Array): object {
  const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const value = type.fromBuffer(buffer); // throws on truncated data and on trailing bytes
  const out: Record<string, unknown> = {};
  for (const column of shape.columns) out[column.name] = column.read(value);
  return out;
}

function flatten(
  record: AvroType,
  prefix: string,
  get: (v: unknown) => unknown,
  out: ShapeColumn[],
): void {
  for (const field of record.fields ?? []) {
    const name = `${prefix}${field.name}`;
    const read = (v: unknown) => (get(v) as Record<string, unknown> | null)?.[field.name];
    const nested = nestedRecord(field.type);
    if (nested) {
      flatten(nested.record, `${name}_`, nested.optional ? (v) => unwrap(read(v)) : read, out);
    } else {
      out.push({ name, type: columnType(field.type), read: leafReader(field.type, read) });
    }
  }
}

/** A record field, or a union of null and one record: flattened into its parent. */
function nestedRecord(type: AvroType): { record: AvroType; optional: boolean } | undefined {
  if (type.typeName === "record") return { record: type, optional: false };
  if (type.typeName === "union:wrapped") {
    const others = type.types!.filter((b) => b.typeName !== "null");
    if (
      others.length === 1 && others.length < type.types!.length && others[0].typeName === "record"
    ) {
      return { record: others[0], optional: true };
    }
  }
  return undefined;
}

/** The value inside a wrapped union ({branch: value}), or null. */
function unwrap(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const key = Object.keys(value as object)[0];
  return (value as Record<string, unknown>)[key];
}

/** The warehouse type of a leaf. */
export function columnType(type: AvroType): ColumnType {
  switch (type.typeName) {
    case "int":
    case "long":
    case "boolean":
      return "INTEGER";
    case "float":
    case "double":
      return "REAL";
    case "union:wrapped": {
      const types = new Set(
        type.types!.filter((b) => b.typeName !== "null").map((b) => columnType(b)),
      );
      if (types.size === 1) return [...types][0];
      if (types.size === 2 && types.has("INTEGER") && types.has("REAL") && !hasBoolean(type)) {
        return "REAL";
      }
      return "TEXT";
    }
    default: // string, enum, bytes, fixed, array, map, null, logical types
      return "TEXT";
  }
}

function hasBoolean(type: AvroType): boolean {
  return type.types!.some((b) => b.typeName === "boolean");
}

function leafReader(type: AvroType, read: (v: unknown) => unknown): (v: unknown) => unknown {
  const target = columnType(type);
  return (v) => leafValue(type, read(v), target);
}

/** A leaf value as the lake line holds it, fitting the column type `target`. */
function leafValue(type: AvroType, value: unknown, target: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeName) {
    case "union:wrapped": {
      const key = Object.keys(value as object)[0];
      const branch = type.types!.find((b) => b.branchName === key)!;
      const inner = leafValue(branch, (value as Record<string, unknown>)[key], columnType(branch));
      // A union of mixed types is a TEXT column: every branch's value as text.
      if (target === "TEXT" && inner !== null && typeof inner !== "string") {
        return typeof inner === "object" ? JSON.stringify(inner) : String(inner);
      }
      return inner;
    }
    case "bytes":
    case "fixed":
      return (value as Buffer).toString("base64");
    case "array":
    case "map":
    case "record":
      return JSON.stringify(jsonValue(type, value));
    default:
      return value;
  }
}

/** Any value as plain JSON (inside arrays and maps): bytes as base64, unions unwrapped. */
function jsonValue(type: AvroType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeName) {
    case "record": {
      const out: Record<string, unknown> = {};
      for (const f of type.fields!) {
        out[f.name] = jsonValue(f.type, (value as Record<string, unknown>)[f.name]);
      }
      return out;
    }
    case "array":
      return (value as unknown[]).map((item) => jsonValue(type.itemsType!, item));
    case "map":
      return Object.fromEntries(
        Object.entries(value as object).map(([k, v]) => [k, jsonValue(type.valuesType!, v)]),
      );
    case "union:wrapped": {
      const key = Object.keys(value as object)[0];
      const branch = type.types!.find((b) => b.branchName === key)!;
      return jsonValue(branch, (value as Record<string, unknown>)[key]);
    }
    case "bytes":
    case "fixed":
      return (value as Buffer).toString("base64");
    default:
      return value;
  }
}
