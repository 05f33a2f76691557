/**
 * What a feed is: a Kafka topic the lake keeps, whose name is also the lake folder and the
 * warehouse table. The shapes only; config/feeds.ts validates declarations into them.
 */
import type { TimeWindow } from "./time.ts";

export type FeedKind = "stream" | "table" | "static";
export type LakeMode = "append" | "overwrite" | "ignore";
export type ColumnType = "TEXT" | "INTEGER" | "REAL";
/**
 * How a feed's record values are written on its topic: JSON text (the default), or the Schema
 * Registry wire format (a zero byte, a 4-byte schema id, the payload) with Avro, Protobuf or JSON
 * Schema; src/registry decodes those into the same JSON object a JSON feed carries.
 */
export type FeedFormat = "json" | "avro" | "protobuf" | "json-schema";
export const FEED_FORMATS: readonly FeedFormat[] = ["json", "avro", "protobuf", "json-schema"];

export interface ForeignKey {
  column: string;
  references: string;
}

/** A feed as declared (settings.ts or FEEDS_FILE). */
export interface FeedDeclaration {
  name: string;
  kind: FeedKind;
  primaryKey: string[];
  /** Event-time field of stream records (ISO 8601); without it the Kafka timestamp is used. */
  timeField?: string;
  foreignKeys?: ForeignKey[];
  retentionDays?: number;
  /** Known columns and their types; fields not listed get a type from their first value. */
  columns?: Record<string, ColumnType>;
  /** Value format on the topic (default "json"). */
  format?: FeedFormat;
}

/** A validated feed, with everything derived from its declaration filled in. */
export interface Feed {
  readonly name: string;
  readonly kind: FeedKind;
  readonly mode: LakeMode;
  readonly primaryKey: readonly string[];
  readonly timeField?: string;
  readonly foreignKeys: readonly ForeignKey[];
  readonly retentionDays?: number;
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** Accepted event times (EVENT_TIME_YEARS); the contract's default when absent. */
  readonly timeWindow?: TimeWindow;
  /** Value format on the topic; absent means "json". */
  readonly format?: FeedFormat;
}
