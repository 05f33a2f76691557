/**
 * Stage one: the raw records of one Kafka transaction of partition p → its output records (streams,
 * quarantine, the per-user table updates of partition p, window deltas for stage two), handed out
 * part by part (BatchRun). Per-user updates go to partition p of their changelogs
 * (co-partitioning, layout.ts); window deltas go to the repartition partition of their type.
 * Synchronous on purpose: no await per record (HMACs are synchronous and cached), and each
 * record's JSON is serialized once. A record is quarantined, with its reason, when it fails
 * validation, when one of its derived records would be too large to produce, or when it would
 * take an aggregate total out of its exact range; then it changes nothing else.
 */
import type { Config } from "../config/config.ts";
import { type Feed, recordKey } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaRecord, OutgoingRecord } from "../kafka/client.ts";
import { isOversized, MAX_RECORD_BYTES, recordBytes } from "../kafka/limits.ts";
import { streamPartition, typePartition } from "./layout.ts";
import type { RateTable } from "./rates.ts";
import type { ProcessorFeeds, ProcessorTopics } from "./topics.ts";
import {
  type Hasher,
  isBlacklisted,
  pseudonymize,
  toMicros,
  toUsd,
  typeOrUnknown,
  usdJson,
} from "./transform.ts";
import type { UserTables } from "./user_tables.ts";
import { validateRaw } from "./validate.ts";
import { WindowDeltas } from "./windows.ts";

export interface BatchContext {
  config: Pick<Config, "blacklist" | "timeWindow">;
  feeds: ProcessorFeeds;
  topics: ProcessorTopics;
  rates: RateTable;
  hash: Hasher;
  log: Logger;
  /** The internal topic of window deltas and its partition count. */
  repartition: { topic: string; partitions: number };
  /** Partition counts of the derived stream topics (layout.ts). */
  streamPartitions: Map<string, number>;
}

/**
 * Transforms one transaction's raw records of `partition`, folding them into that partition's
 * `tables`: `add` takes the records part by part and returns each part's own outputs (streams,
 * quarantine), so they can go out and be let go before the next part is transformed; `finish`
 * returns the per-user table updates and window deltas of all the parts, one per key.
 */
export type BatchTransformer = (tables: UserTables, partition: number) => BatchRun;

export interface BatchRun {
  add(records: KafkaRecord[]): OutgoingRecord[];
  finish(): OutgoingRecord[];
  /** Records quarantined so far. */
  readonly rejected: number;
}

/**
 * Derived values are at most this much longer than the raw value (three 64-character hashes
 * instead of raw ids, AMOUNT_USD and TARGET_CURRENCY): smaller raw records need no size check.
 */
const DERIVED_GROWTH = 1024;

const decoder = new TextDecoder();

export function batchTransformer(ctx: BatchContext): BatchTransformer {
  const { topics, feeds, log, repartition } = ctx;
  const blacklist = ctx.config.blacklist;

  return (tables, partition) => {
    // Per run: several partitions' transactions may be open at once.
    const deltas = new WindowDeltas();
    const streamAt = new Map<string, number>();
    for (const [topic, n] of ctx.streamPartitions) {
      streamAt.set(topic, streamPartition(partition, n));
    }
    const secureAt = streamAt.get(topics.secure);
    const usdAt = streamAt.get(topics.usd);
    const blacklistedAt = streamAt.get(topics.blacklisted);
    const table = (feed: Feed, topic: string, value: Record<string, unknown>): OutgoingRecord => ({
      topic,
      key: recordKey(feed, value),
      value: JSON.stringify(value),
      partition,
    });
    let out: OutgoingRecord[] = [];
    let rejected = 0;
    const reject = (record: KafkaRecord, reason: string) => {
      rejected++;
      out.push(quarantine(topics.rejected, record, reason));
      log.warn("processor.record_rejected", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        reason,
      });
    };
    const add = (batch: KafkaRecord[]) => {
      out = [];
      for (const record of batch) {
        const checked = validateRaw(record.value, ctx.rates, ctx.config.timeWindow);
        if (!checked.ok) {
          reject(record, checked.reason);
          continue;
        }
        const secure = pseudonymize(checked.tx, ctx.hash);
        const usd = toUsd(secure, checked.rate);
        // Derived streams are keyed by the hashed user: per-user order survives, no raw id leaks.
        const key = secure.USER_ID_HASHED;
        const value = JSON.stringify(secure);
        // USD last: records sharing a value stay adjacent, so the client encodes it once.
        const statusTopic = topics.byStatus[secure.STATUS];
        const derived: OutgoingRecord[] = [
          { topic: topics.secure, key, value, partition: secureAt },
          { topic: statusTopic, key, value, partition: streamAt.get(statusTopic) },
        ];
        if (isBlacklisted(checked.tx, blacklist)) {
          derived.push({ topic: topics.blacklisted, key, value, partition: blacklistedAt });
        }
        derived.push({ topic: topics.usd, key, value: usdJson(value, usd), partition: usdAt });
        if ((record.value?.length ?? 0) + DERIVED_GROWTH > MAX_RECORD_BYTES) {
          const big = derived.find(isOversized);
          if (big) {
            reject(
              record,
              `derived record for ${big.topic} would be ${recordBytes(big)} bytes, over the ` +
                `${MAX_RECORD_BYTES}-byte limit of one Kafka record`,
            );
            continue;
          }
        }
        const micros = toMicros(usd.AMOUNT_USD);
        const type = typeOrUnknown(usd.TRANSACTION_TYPE);
        const refused = tables.check(usd, micros) ?? deltas.check(type, checked.eventTime, micros);
        if (refused !== undefined) {
          reject(record, refused);
          continue;
        }
        tables.apply(usd, micros, checked.eventTime);
        deltas.add(type, checked.eventTime, micros);
        for (const r of derived) out.push(r);
      }
      return out;
    };
    const finish = () => {
      out = [];
      const updates = tables.drain();
      for (const v of updates.userSpending) {
        out.push(table(feeds.userSpending, topics.userSpending, { ...v }));
      }
      for (const v of updates.users) out.push(table(feeds.users, topics.users, { ...v }));
      for (const delta of deltas.take()) {
        out.push({
          topic: repartition.topic,
          key: delta.TRANSACTION_TYPE,
          value: JSON.stringify(delta),
          partition: typePartition(delta.TRANSACTION_TYPE, repartition.partitions),
        });
      }
      return out;
    };
    return {
      add,
      finish,
      get rejected() {
        return rejected;
      },
    };
  };
}

/**
 * The raw record as it came (personal data included: this topic never reaches the lake). One too
 * large to produce again keeps its headers, source position and size; its bytes stay in the raw
 * topic at that offset.
 */
export function quarantine(topic: string, record: KafkaRecord, reason: string): OutgoingRecord {
  const headers: Record<string, string> = {
    reason,
    source_topic: record.topic,
    source_partition: String(record.partition),
    source_offset: record.offset,
  };
  const out: OutgoingRecord = {
    topic,
    key: record.key === null ? null : decoder.decode(record.key),
    value: record.value === null ? null : decoder.decode(record.value),
    headers,
  };
  if (!isOversized(out)) return out;
  headers.value_omitted = `${(record.key?.length ?? 0) + (record.value?.length ?? 0)} bytes`;
  return { topic, key: null, value: null, headers };
}
