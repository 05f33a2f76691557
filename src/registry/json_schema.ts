/**
 * JSON Schema records: the payload after the wire header is JSON text. Columns come from the
 * schema's top-level `properties` (integer → INTEGER, number → REAL, boolean → INTEGER, the rest
 * TEXT); nested objects and arrays are kept as JSON text. The payload is not checked against the
 * schema beyond being an object: the lake's one record validator checks the columns' types.
 */
import type { ColumnType } from "../config/feeds.ts";
import { PayloadError, SchemaError } from "./errors.ts";
import type { Shape } from "./shape.ts";

const TYPES: Record<string, ColumnType> = {
  integer: "INTEGER",
  number: "REAL",
  boolean: "INTEGER",
  string: "TEXT",
};

export function jsonSchemaShape(schemaText: string): Shape {
  let schema: { type?: unknown; properties?: Record<string, { type?: unknown }> };
  try {
    schema = JSON.parse(schemaText);
  } catch (error) {
    throw new SchemaError(`the JSON Schema is not JSON: ${(error as Error).message}`);
  }
  if (schema.type !== "object" || typeof schema.properties !== "object") {
    throw new SchemaError('the JSON Schema must be {"type": "object", "properties": {...}}');
  }
  const columns = Object.entries(schema.properties).map(([name, property]) => {
    const types = (Array.isArray(property?.type) ? property.type : [property?.type])
      .filter((t) => t !== "null");
    const type: ColumnType = types.length === 1 ? TYPES[String(types[0])] ?? "TEXT" : "TEXT";
    return {
      name,
      type,
      read: (v: unknown) => {
        const value = (v as Record<string, unknown>)[name];
        if (value === undefined || value === null) return null;
        return typeof value === "object" ? JSON.stringify(value) : value;
      },
    };
  });
  return { columns };
}

export function decodeJsonSchema(shape: Shape, payload: Uint8Array): object {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch (error) {
    throw new PayloadError(`payload is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PayloadError("payload is not a JSON object");
  }
  const out: Record<string, unknown> = {};
  for (const column of shape.columns) out[column.name] = column.read(value);
  // Fields the schema does not name stay as they are (additionalProperties).
  for (const [k, v] of Object.entries(value)) {
    if (!(k in out)) out[k] = typeof v === "object" && v !== null ? JSON.stringify(v) : v;
  }
  return out;
}
