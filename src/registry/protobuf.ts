/**
 * Protobuf records as lake lines: the schema from the registry (.proto text, or the base64
 * FileDescriptorProto that Confluent's serializers register and Apicurio hands back as is), read
 * by protobufjs; the message named by the record's message indexes. Same flattening as Avro: nested messages become
 * `parent_child` columns, repeated fields and maps JSON text, enums their names, bytes base64,
 * 64-bit integers numbers (refused past 2^53), google.protobuf.Timestamp ISO 8601 UTC.
 */
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import type { ColumnType } from "../config/feeds.ts";
import type { RegisteredSchema, SchemaRegistryClient } from "./client.ts";
import { PayloadError, SchemaError } from "./errors.ts";
import type { Shape, ShapeColumn } from "./shape.ts";
import { messageIndexes } from "./wire.ts";

export interface ProtoSchema {
  /** The message type at these indexes, and its shape (cached per path). */
  message(indexes: number[]): { type: protobuf.Type; shape: Shape };
  shape(indexes: number[]): Shape;
}

const TIMESTAMP = "google.protobuf.Timestamp";

/** protobufjs/ext/descriptor adds Root.fromDescriptor. */
type DescriptorRoot = { fromDescriptor(set: { file: unknown[] }): protobuf.Root };

export function protobufSchema(
  registered: RegisteredSchema,
  _client: SchemaRegistryClient,
): Promise<ProtoSchema> {
  const foreign = registered.references.filter((r) => !r.name.startsWith("google/protobuf/"));
  if (foreign.length > 0) {
    throw new SchemaError(
      `Protobuf schemas importing other registered files are not supported (${foreign[0].name})`,
    );
  }
  let root: protobuf.Root;
  let pkg: string | undefined;
  const text = registered.schema.trim();
  try {
    if (/^[A-Za-z0-9+/=\s]+$/.test(text)) {
      const file = descriptor.FileDescriptorProto.decode(Buffer.from(text, "base64"));
      root = (protobuf.Root as unknown as DescriptorRoot).fromDescriptor({ file: [file] });
      pkg = (file as unknown as { package?: string }).package || undefined;
    } else {
      const parsed = protobuf.parse(text, { keepCase: true });
      root = parsed.root;
      pkg = parsed.package;
    }
    root.resolveAll();
  } catch (error) {
    throw new SchemaError(`the Protobuf schema is not valid: ${(error as Error).message}`);
  }
  const top = pkg ? root.lookup(pkg) as protobuf.Namespace : root;
  const cache = new Map<string, { type: protobuf.Type; shape: Shape }>();
  const message = (indexes: number[]) => {
    const key = indexes.join(",");
    let hit = cache.get(key);
    if (!hit) {
      let scope: protobuf.NamespaceBase = top;
      let type: protobuf.Type | undefined;
      for (const i of indexes) {
        type = scope.nestedArray.filter((n) => n instanceof protobuf.Type)[i] as protobuf.Type;
        if (!type) throw new PayloadError(`no Protobuf message at indexes [${indexes}]`);
        scope = type;
      }
      if (!type) throw new PayloadError("no Protobuf message indexes");
      const columns: ShapeColumn[] = [];
      flatten(type, "", (v) => v, columns);
      hit = { type, shape: { columns } };
      cache.set(key, hit);
    }
    return hit;
  };
  return Promise.resolve({ message, shape: (indexes) => message(indexes).shape });
}

export function decodeProtobuf(schema: ProtoSchema, payload: Uint8Array): object {
  const { indexes, rest } = messageIndexes(payload);
  const { type, shape } = schema.message(indexes);
  const decoded = type.toObject(type.decode(rest), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
  });
  const out: Record<string, unknown> = {};
  for (const column of shape.columns) out[column.name] = column.read(decoded);
  return out;
}

function flatten(
  type: protobuf.Type,
  prefix: string,
  get: (v: unknown) => unknown,
  out: ShapeColumn[],
): void {
  for (const field of type.fieldsArray) {
    const name = `${prefix}${field.name}`;
    const read = (v: unknown) => (get(v) as Record<string, unknown> | null)?.[field.name];
    const resolved = field.resolvedType;
    const isList = field.repeated || field instanceof protobuf.MapField;
    if (!isList && resolved instanceof protobuf.Type && resolved.fullName.slice(1) !== TIMESTAMP) {
      flatten(resolved, `${name}_`, read, out);
      continue;
    }
    if (isList) {
      out.push({ name, type: "TEXT", read: (v) => jsonText(read(v)) });
    } else if (resolved instanceof protobuf.Type) {
      out.push({ name, type: "TEXT", read: (v) => timestamp(read(v)) });
    } else {
      const columnType = scalarType(field.type, resolved);
      out.push({ name, type: columnType, read: (v) => scalar(read(v), columnType, name) });
    }
  }
}

function scalarType(type: string, resolved: protobuf.ReflectionObject | null): ColumnType {
  if (resolved instanceof protobuf.Enum) return "TEXT";
  if (type === "double" || type === "float") return "REAL";
  if (type === "string" || type === "bytes") return "TEXT";
  return "INTEGER"; // bool and the integer types
}

function scalar(value: unknown, type: ColumnType, name: string): unknown {
  if (value === undefined || value === null) return null;
  if (type === "INTEGER" && typeof value === "string") {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      throw new PayloadError(`field ${name} holds ${value}, past the exact range of numbers`);
    }
    return n;
  }
  return value;
}

function timestamp(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const { seconds, nanos } = value as { seconds: string | number; nanos: number };
  const ms = Number(seconds) * 1000 + Math.floor((nanos ?? 0) / 1e6);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new PayloadError(`Timestamp ${seconds}s is outside the range of dates`);
  }
  return new Date(ms).toISOString();
}

function jsonText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value);
}
