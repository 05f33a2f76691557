/**
 * One raw batch → every output record of one Kafka transaction (streams, quarantine, table
 * updates). Synchronous on purpose: no await per record (HMACs are synchronous and cached), and
 * each record's JSON is serialized once. A record is quarantined, with its reason, when it fails
 * validation, when one of its derived records would be too large to produce, or when it would
 * take an aggregate total out of its exact range; then it changes nothing else.
 */
import type { Config } from "../config/config.ts";
import { type Feed, recordKey } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaRecord, OutgoingRecord } from "../kafka/client.ts";
import { isOversized, MAX_RECORD_BYTES, recordBytes } from "../kafka/limits.ts";
import type { Aggregates } from "./aggregates.ts";
import type { RateTable } from "./rates.ts";
import type { ProcessorFeeds, ProcessorTopics } from "./topics.ts";
import { type Hasher, isBlacklisted, pseudonymize, toUsd, usdJson } from "./transform.ts";
import { validateRaw } from "./validate.ts";

export interface BatchContext {
  config: Pick<Config, "blacklist" | "timeWindow">;
  feeds: ProcessorFeeds;
  topics: ProcessorTopics;
  rates: RateTable;
  aggregates: Aggregates;
  hash: Hasher;
  log: Logger;
}

export interface BatchOutput {
  records: OutgoingRecord[];
  rejected: number;
}

/**
 * Derived values are at most this much longer than the raw value (three 64-character hashes
 * instead of raw ids, AMOUNT_USD and TARGET_CURRENCY): smaller raw records need no size check.
 */
const DERIVED_GROWTH = 1024;

const decoder = new TextDecoder();

export function batchTransformer(ctx: BatchContext): (batch: KafkaRecord[]) => BatchOutput {
  const { topics, feeds, aggregates, log } = ctx;
  const blacklist = ctx.config.blacklist;
  const table = (feed: Feed, topic: string, value: Record<string, unknown>): OutgoingRecord => ({
    topic,
    key: recordKey(feed, value),
    value: JSON.stringify(value),
  });

  return (batch) => {
    const out: OutgoingRecord[] = [];
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
      const derived: OutgoingRecord[] = [
        { topic: topics.secure, key, value },
        { topic: topics.byStatus[secure.STATUS], key, value },
      ];
      if (isBlacklisted(checked.tx, blacklist)) {
        derived.push({ topic: topics.blacklisted, key, value });
      }
      derived.push({ topic: topics.usd, key, value: usdJson(value, usd) });
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
      const refused = aggregates.apply(usd, checked.eventTime);
      if (refused !== undefined) {
        reject(record, refused);
        continue;
      }
      for (const r of derived) out.push(r);
    }
    const updates = aggregates.drain();
    for (const v of updates.userSpending) {
      out.push(table(feeds.userSpending, topics.userSpending, { ...v }));
    }
    for (const v of updates.windows) out.push(table(feeds.windows, topics.windows, { ...v }));
    for (const v of updates.users) out.push(table(feeds.users, topics.users, { ...v }));
    return { records: out, rejected };
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
