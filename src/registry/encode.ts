/**
 * Avro outputs (OUTPUT_FORMAT=avro), as ksqlDB writes with VALUE_FORMAT='AVRO': each output topic
 * gets an Avro record schema made from its feed's declared columns (TEXT → string, INTEGER →
 * long, REAL → double, every field nullable with default null, so adding a column later is a
 * BACKWARD-compatible version), registered under `<topic>-value`; a value is framed in the
 * registry wire format. Readers with Confluent's deserializers get the same values the JSON
 * output carries.
 */
import avro from "avsc";
import type { ColumnType, Feed } from "../config/feeds.ts";
import { DataError } from "../core/errors.ts";
import type { SchemaRegistryClient } from "./client.ts";
import { valueSubject } from "./columns.ts";
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
