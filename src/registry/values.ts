/**
 * The lake's hook: a batch of a feed in a registry format, its values turned into JSON text before
 * the lake's one record validator sees them. Records that do not decode are returned as
 * rejections (offset → reason) for the lake's quarantine, with their original bytes. While the
 * registry cannot be reached the batch waits (waiting.ts), and nothing is quarantined.
 */
import type { Feed } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaRecord, RecordBatch } from "../kafka/client.ts";
import { type RetryPolicy, WAIT_FOREVER } from "../kafka/retry.ts";
import { SchemaRegistryClient } from "./client.ts";
import { RecordDecoder } from "./decoder.ts";
import type { SchemaRegistrySettings } from "../config/registry.ts";
import { waitForRegistry } from "./waiting.ts";

export interface DecodedBatch {
  batch: RecordBatch;
  /** Offset → why the record cannot be decoded (for the quarantine). */
  rejections: Map<string, string>;
}

const encoder = new TextEncoder();

export class FeedValueDecoder {
  #decoder: RecordDecoder;
  #log: Logger;
  #policy: RetryPolicy;

  constructor(settings: SchemaRegistrySettings, log: Logger, policy: RetryPolicy = WAIT_FOREVER) {
    this.#decoder = new RecordDecoder(new SchemaRegistryClient(settings));
    this.#log = log.child({ component: "registry" });
    this.#policy = policy;
  }

  /** Whether the registry answered lately (for /status). */
  health() {
    return this.#decoder.client.health();
  }

  close(): void {
    this.#decoder.client.close();
  }

  /**
   * The batch with decoded values (JSON feeds: as it is). Waits while the registry is
   * unreachable; throws the RegistryUnavailableError only once `signal` aborts.
   */
  async decodeBatch(feed: Feed, batch: RecordBatch, signal?: AbortSignal): Promise<DecodedBatch> {
    const { records, rejections } = await this.decodeRecords(feed, batch.records, signal);
    return { batch: { ...batch, records }, rejections };
  }

  /** Like decodeBatch, for records of any source (the processor's raw topic). */
  async decodeRecords(
    source: Pick<Feed, "name" | "format">,
    input: readonly KafkaRecord[],
    signal?: AbortSignal,
  ): Promise<{ records: KafkaRecord[]; rejections: Map<string, string> }> {
    const rejections = new Map<string, string>();
    const format = source.format;
    if (!format || format === "json") return { records: [...input], rejections };
    const records: KafkaRecord[] = [];
    for (const record of input) {
      // Null and empty values (tombstones) go to the lake as they are: it knows them.
      if (record.value === null || record.value.length === 0) {
        records.push(record);
        continue;
      }
      const value = record.value;
      const decoded = await this.#waiting(
        source,
        () => this.#decoder.decode(format, value),
        signal,
      );
      if ("reason" in decoded) {
        rejections.set(record.offset, decoded.reason);
        records.push(record);
      } else {
        records.push({ ...record, value: encoder.encode(JSON.stringify(decoded.value)) });
      }
    }
    return { records, rejections };
  }

  /**
   * One registry-framed value (a changelog the processor wrote with OUTPUT_FORMAT=avro) as its
   * JSON object, or why it does not decode. Waits while the registry is unreachable.
   */
  decodeValue(
    source: Pick<Feed, "name">,
    bytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ value: Record<string, unknown> } | { reason: string }> {
    return this.#waiting(source, () => this.#decoder.decode("avro", bytes), signal) as Promise<
      { value: Record<string, unknown> } | { reason: string }
    >;
  }

  #waiting<T>(feed: Pick<Feed, "name">, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const url = this.#decoder.client.url;
    return waitForRegistry(
      { name: feed.name, url, log: this.#log, policy: this.#policy, signal },
      call,
    );
  }
}

/** A raw record that did not decode, and why (the processor quarantines it). */
export interface Undecodable {
  record: KafkaRecord;
  reason: string;
}

/**
 * The processor's hook: with RAW_FORMAT=avro, raw records decoded to JSON before its validation;
 * undefined with JSON raw records (the default). Waits while the registry is down (see above).
 */
export function rawDecoder(
  config: { rawFormat: string; schemaRegistry?: SchemaRegistrySettings },
  log: Logger,
  policy: RetryPolicy = WAIT_FOREVER,
):
  | ((records: KafkaRecord[], signal?: AbortSignal) => Promise<{
    records: KafkaRecord[];
    undecodable: Undecodable[];
  }>)
  | undefined {
  if (config.rawFormat !== "avro" || !config.schemaRegistry) return undefined;
  const values = new FeedValueDecoder(config.schemaRegistry, log, policy);
  return async (input, signal) => {
    const topic = input[0]?.topic ?? "raw";
    const { records, rejections } = await values.decodeRecords(
      { name: topic, format: "avro" },
      input,
      signal,
    );
    return {
      records: records.filter((r) => !rejections.has(r.offset)),
      undecodable: input.filter((r) => rejections.has(r.offset))
        .map((record) => ({ record, reason: rejections.get(record.offset)! })),
    };
  };
}

/**
 * The processor's restore hook: its changelogs' registry-framed values (written with
 * OUTPUT_FORMAT=avro) decoded to their JSON objects; undefined without a registry. Waits while the
 * registry is down (see above).
 */
export function changelogDecoder(
  config: { schemaRegistry?: SchemaRegistrySettings },
  log: Logger,
  policy: RetryPolicy = WAIT_FOREVER,
):
  | ((topic: string, bytes: Uint8Array, signal?: AbortSignal) => Promise<
    { value: Record<string, unknown> } | { reason: string }
  >)
  | undefined {
  if (!config.schemaRegistry) return undefined;
  const values = new FeedValueDecoder(config.schemaRegistry, log, policy);
  return (topic, bytes, signal) => values.decodeValue({ name: topic }, bytes, signal);
}

/**
 * A raw record that did not decode, with its value as base64 text: the processor's quarantine
 * topic carries values as text, and binary Avro would not survive that. Its header
 * `value_encoding: base64` says so.
 */
export function base64Valued(record: KafkaRecord): KafkaRecord {
  if (record.value === null) return record;
  return { ...record, value: encoder.encode(Buffer.from(record.value).toString("base64")) };
}
