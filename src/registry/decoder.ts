/**
 * Record values in the Schema Registry wire format → the JSON object the lake keeps. One decoder
 * per schema id, compiled once from the registry's schema. `decode` tells the two kinds of
 * failure apart: a record that cannot be decoded (no wire header, unknown schema id, a payload
 * that is not its schema's) is a Rejection with a reason, for the quarantine; a registry that
 * cannot be reached throws a RegistryUnavailableError, and the caller waits (values.ts).
 */
import type { FeedFormat } from "../config/feeds.ts";
import { DomainError } from "../core/errors.ts";
import { avroShape, avroType, decodeAvro } from "./avro.ts";
import type { RegisteredSchema, SchemaRegistryClient, SchemaType } from "./client.ts";
import { PayloadError, SchemaError, SchemaNotFoundError } from "./errors.ts";
import { decodeJsonSchema, jsonSchemaShape } from "./json_schema.ts";
import type { Shape } from "./shape.ts";
import { unframe } from "./wire.ts";

export type Decoded = { value: object; schemaId: number } | { reason: string };

/** A compiled schema: its columns and how to decode a payload. */
export interface Compiled {
  id: number;
  schemaType: SchemaType;
  /** Columns of the record the top-level (Avro, JSON) or first (Protobuf) message gives. */
  shape: Shape;
  decode(payload: Uint8Array): object;
}

const TYPE_OF_FORMAT: Record<Exclude<FeedFormat, "json">, SchemaType> = {
  avro: "AVRO",
  protobuf: "PROTOBUF",
  "json-schema": "JSON",
};

export class RecordDecoder {
  #client: SchemaRegistryClient;
  #compiled = new Map<number, Compiled | { error: string }>();

  constructor(client: SchemaRegistryClient) {
    this.#client = client;
  }

  get client(): SchemaRegistryClient {
    return this.#client;
  }

  /** Decodes one value; throws only RegistryUnavailableError (and other outages). */
  async decode(format: Exclude<FeedFormat, "json">, bytes: Uint8Array): Promise<Decoded> {
    let schemaId: number | undefined;
    try {
      const framed = unframe(bytes);
      schemaId = framed.schemaId;
      const compiled = await this.compiled(schemaId);
      if (compiled.schemaType !== TYPE_OF_FORMAT[format]) {
        return {
          reason: `schema id ${schemaId} is a ${compiled.schemaType} schema; the feed's ` +
            `format is ${format}`,
        };
      }
      return { value: compiled.decode(framed.payload), schemaId };
    } catch (error) {
      if (error instanceof SchemaNotFoundError) {
        return { reason: `unknown schema id ${schemaId}: ${error.message}` };
      }
      if (error instanceof SchemaError || error instanceof PayloadError) {
        return { reason: withId(schemaId, error.message) };
      }
      if (error instanceof DomainError) throw error; // the registry is down: wait, not reject
      // The decoder library's own errors (truncated data, trailing bytes, bad varint, …).
      return { reason: withId(schemaId, `payload does not decode: ${(error as Error).message}`) };
    }
  }

  /** The compiled schema of `id` (cached; a schema that cannot be used is a SchemaError). */
  async compiled(id: number): Promise<Compiled> {
    const cached = this.#compiled.get(id);
    if (cached && "error" in cached) throw new SchemaError(cached.error);
    if (cached) return cached;
    const registered = await this.#client.schemaById(id);
    try {
      const compiled = await compile(registered, this.#client);
      this.#compiled.set(id, compiled);
      return compiled;
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      this.#compiled.set(id, { error: error.message });
      throw error;
    }
  }
}

async function compile(
  registered: RegisteredSchema,
  client: SchemaRegistryClient,
): Promise<Compiled> {
  const { id, schemaType } = registered;
  switch (schemaType) {
    case "AVRO": {
      if (registered.references.length > 0) {
        throw new SchemaError("Avro schemas with references are not supported");
      }
      const type = avroType(registered.schema);
      const shape = avroShape(type);
      return { id, schemaType, shape, decode: (payload) => decodeAvro(type, shape, payload) };
    }
    case "PROTOBUF": {
      // protobufjs (~2 MiB of code) loads with the first Protobuf schema, not with every serve.
      const { decodeProtobuf, protobufSchema } = await import("./protobuf.ts");
      const proto = await protobufSchema(registered, client);
      return {
        id,
        schemaType,
        shape: proto.shape([0]),
        decode: (payload) => decodeProtobuf(proto, payload),
      };
    }
    case "JSON": {
      const shape = jsonSchemaShape(registered.schema);
      return { id, schemaType, shape, decode: (payload) => decodeJsonSchema(shape, payload) };
    }
  }
}

function withId(schemaId: number | undefined, message: string): string {
  return schemaId === undefined ? message : `schema id ${schemaId}: ${message}`;
}
