/** Small test feeds and helpers shared by the lake tests (real broker, temp lakes). */
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import type { Config } from "../../src/config/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import type {
  KafkaClient,
  KafkaRecord,
  OutgoingRecord,
  RecordBatch,
} from "../../src/kafka/client.ts";
import { type LakeStats, startLakeConsumer } from "../../src/lake/consumer.ts";
import { uniqueName } from "../helpers/env.ts";

const encoder = new TextEncoder();

/**
 * A batch of partition 0 as the client hands it to the lake, without Kafka: `values` (text, or
 * null for a tombstone) from offset `first`, with `keys` when given, all at `timestamp`.
 */
export function lakeBatch(
  topic: string,
  first: number,
  values: readonly (string | null)[],
  options: { keys?: readonly string[]; timestamp?: number } = {},
): RecordBatch {
  const timestamp = options.timestamp ?? Date.parse("2026-02-03T10:00:00Z");
  const records: KafkaRecord[] = values.map((value, i) => ({
    topic,
    partition: 0,
    offset: String(first + i),
    timestamp,
    key: options.keys ? encoder.encode(options.keys[i]) : null,
    value: value === null ? null : encoder.encode(value),
    headers: {},
  }));
  return {
    topic,
    partition: 0,
    records,
    generation: { groupId: "test", memberId: "", generationId: -1 },
    nextOffset: String(first + values.length),
    highWatermark: "0",
  };
}

/** A stream feed with an event-time field and a few typed columns. */
export function streamFeed(name = uniqueName("LK_STREAM")): FeedDeclaration {
  return {
    name,
    kind: "stream",
    primaryKey: ["ID"],
    timeField: "TS",
    columns: { ID: "TEXT", AMOUNT: "REAL", TS: "TEXT" },
  };
}

export function tableFeed(name = uniqueName("LK_TABLE")): FeedDeclaration {
  return { name, kind: "table", primaryKey: ["K"], columns: { K: "TEXT", N: "INTEGER" } };
}

export function staticFeed(name = uniqueName("LK_STATIC")): FeedDeclaration {
  return { name, kind: "static", primaryKey: ["CURRENCY"], columns: { RATE: "REAL" } };
}

/** Consumes every feed of `config` until caught up; returns the per-feed counters. */
export async function consumeOnce(
  config: Config,
  kafka: KafkaClient,
  now?: () => number,
): Promise<LakeStats> {
  const consumer = await startLakeConsumer({
    config,
    kafka,
    log: silentLogger,
    feeds: config.feeds,
    once: true,
    now,
  });
  return await consumer.done;
}

export async function produce(kafka: KafkaClient, records: OutgoingRecord[]): Promise<void> {
  const producer = await kafka.producer();
  try {
    await producer.send(records);
  } finally {
    await producer.close();
  }
}

export async function readLines(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.length > 0);
}
