/**
 * Avro outputs (OUTPUT_FORMAT=avro), as ksqlDB writes with VALUE_FORMAT='AVRO': each output topic
 * gets an Avro record schema made from its feed's declared columns (TEXT → string, INTEGER →
 * long, REAL → double, every field nullable with default null, so adding a column later is a
 * BACKWARD-compatible version), registered under `<topic>-value`; a value is framed in the
 * registry wire format. Readers with Confluent's deserializers get the same values the JSON
 * output carries.
 */
import { Buffer } from "node:buffer";
import avro from "avsc";
import type { ColumnType, Feed } from "../config/feeds.ts";
import { DataError } from "../core/errors.ts";
import type { SchemaRegistryClient } from "./client.ts";
import { valueSubject } from "./columns.ts";
import type { OutgoingRecord } from "../kafka/client.ts";
import { frame } from "./wire.ts";

const AVRO_OF: Record<ColumnType, string> = { TEXT: "string", INTEGER: "long", REAL: "double" };

/** The Avro schema of a feed's records on `topic` (text, as registered). */
export function avroSchemaForFeed(feed: Pick<Feed, "columns">, topic: string): string {
  const name = topic.replace(/[^A-Za-z0-9_]/g, "_").replace(/^([0-9])/, "_$1");
  return JSON.stringify({
    type: "record",
    name,
    namespace: "datalake.output",
    fields: Object.entries(feed.columns).map(([field, type]) => ({
      name: field,
      type: ["null", AVRO_OF[type]],
      default: null,
    })),
  });
}

export class AvroOutputEncoder {
  #client: SchemaRegistryClient;
  #byTopic = new Map<string, Promise<{ id: number; type: avro.Type; fields: Set<string> }>>();

  constructor(client: SchemaRegistryClient) {
    this.#client = client;
  }

  /** `value` (a JSON object of the feed's columns) as registry-framed Avro for `topic`. */
  async encode(topic: string, feed: Pick<Feed, "name" | "columns">, value: object) {
    const { id, type, fields } = await this.#schema(topic, feed);
    const record: Record<string, unknown> = {};
    for (const [field, v] of Object.entries(value)) {
      if (!fields.has(field)) {
        throw new DataError(
          `Cannot write ${topic} as Avro: field ${field} is not a declared column of ${feed.name}`,
        );
      }
      record[field] = v;
    }
    for (const field of fields) record[field] ??= null;
    return frame(id, type.toBuffer(record));
  }

  #schema(topic: string, feed: Pick<Feed, "name" | "columns">) {
    let pending = this.#byTopic.get(topic);
    if (!pending) {
      const text = avroSchemaForFeed(feed, topic);
      pending = this.#client.register(valueSubject({ name: topic }), text, "AVRO").then((id) => ({
        id,
        // Unions of null and one type take the plain value (or null) when encoding.
        type: avro.Type.forSchema(JSON.parse(text), { wrapUnions: false }),
        fields: new Set(Object.keys(feed.columns)),
      }));
      this.#byTopic.set(topic, pending);
      pending.catch(() => this.#byTopic.delete(topic));
    }
    return pending;
  }
}

/**
 * One Avro record shape. The last value's framed bytes are kept: the records sharing a value are
 * adjacent (a transaction's SECURE, status and blacklist records), so it is parsed and encoded
 * once, and the bytes are reused as they are for the same schema id or copied with another id.
 */
interface Writer {
  type: avro.Type;
  fields: Set<string>;
  lastText?: string;
  lastFramed?: Uint8Array;
  lastId?: number;
}

/** Encoding room, grown when a value does not fit; each value is copied out of it once. */
let scratch = Buffer.alloc(64 * 1024);

/**
 * The processor's output hook (OUTPUT_FORMAT=avro): the schemas of its output topics registered
 * once at start (waiting out a registry outage through `wait`), then `encode` turns the JSON text
 * values of a transaction's records into framed Avro in place, synchronously. Records of other
 * topics (the repartition and quarantine topics), tombstones and bytes are left as they are. Feeds
 * with the same columns share one writer.
 */
export class OutputEncoding {
  #byTopic: Map<string, { id: number; writer: Writer; feed: string }>;

  private constructor(byTopic: Map<string, { id: number; writer: Writer; feed: string }>) {
    this.#byTopic = byTopic;
  }

  static async prepare(
    client: SchemaRegistryClient,
    outputs: ReadonlyMap<string, Pick<Feed, "name" | "columns">>,
    wait: <T>(topic: string, call: () => Promise<T>) => Promise<T>,
  ): Promise<OutputEncoding> {
    const writers = new Map<string, Writer>();
    const byTopic = new Map<string, { id: number; writer: Writer; feed: string }>();
    for (const [topic, feed] of outputs) {
      const text = avroSchemaForFeed(feed, topic);
      const id = await wait(
        topic,
        () => client.register(valueSubject({ name: topic }), text, "AVRO"),
      );
      const shape = JSON.stringify(Object.entries(feed.columns));
      let writer = writers.get(shape);
      if (!writer) {
        writer = {
          type: avro.Type.forSchema(JSON.parse(text), { wrapUnions: false }),
          fields: new Set(Object.keys(feed.columns)),
        };
        writers.set(shape, writer);
      }
      byTopic.set(topic, { id, writer, feed: feed.name });
    }
    return new OutputEncoding(byTopic);
  }

  /** The topics written as Avro, with their schema ids. */
  schemaIds(): Map<string, number> {
    return new Map([...this.#byTopic].map(([topic, { id }]) => [topic, id]));
  }

  /**
   * Replaces the JSON text values of output records by framed Avro; a DataError on a field the
   * feed does not declare (it would be dropped silently otherwise).
   */
  encode(records: OutgoingRecord[]): void {
    for (const record of records) {
      const text = record.value;
      if (typeof text !== "string") continue;
      const out = this.#byTopic.get(record.topic);
      if (!out) continue;
      const { writer, id } = out;
      if (text !== writer.lastText || writer.lastFramed === undefined) {
        const value = JSON.parse(text);
        for (const field in value) {
          if (!writer.fields.has(field)) {
            throw new DataError(
              `Cannot write ${record.topic} as Avro: field ${field} is not a declared column ` +
                `of ${out.feed}`,
            );
          }
        }
        writer.lastFramed = framed(writer.type, value, id);
        writer.lastText = text;
        writer.lastId = id;
      } else if (writer.lastId !== id) {
        writer.lastFramed = withId(new Uint8Array(writer.lastFramed), id);
        writer.lastId = id;
      }
      record.value = writer.lastFramed;
    }
  }
}

/** `value` in the wire format: encoded after the 5-byte header, then copied out once. */
function framed(type: avro.Type, value: unknown, id: number): Uint8Array {
  let end = type.encode(value, scratch, 5);
  while (end < 0) {
    scratch = Buffer.alloc(scratch.length * 2);
    end = type.encode(value, scratch, 5);
  }
  return withId(new Uint8Array(scratch.subarray(0, end)), id);
}

function withId(bytes: Uint8Array, id: number): Uint8Array {
  bytes[0] = 0;
  bytes[1] = id >>> 24;
  bytes[2] = (id >>> 16) & 255;
  bytes[3] = (id >>> 8) & 255;
  bytes[4] = id & 255;
  return bytes;
}
