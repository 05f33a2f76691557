/**
 * Stage two: one batch of repartition partition q (window deltas, windows.ts) → the updated
 * windows, written to partition q of SPEND_LAST_FIVE_MIN_BY_TYPE in one Kafka transaction with the
 * batch's offsets. A delta that cannot be read (the topic is internal: only a foreign writer makes
 * one) or would overflow its window is left out and logged with its reason.
 */
import { recordKey } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaRecord, OutgoingRecord } from "../kafka/client.ts";
import type { ProcessorFeeds, ProcessorTopics } from "./topics.ts";
import { parseDelta, type WindowTables } from "./windows.ts";

export interface WindowBatchContext {
  feeds: ProcessorFeeds;
  topics: ProcessorTopics;
  log: Logger;
}

const decoder = new TextDecoder();

export function windowBatchTransformer(
  ctx: WindowBatchContext,
): (batch: KafkaRecord[], tables: WindowTables, partition: number) => OutgoingRecord[] {
  const { feeds, topics, log } = ctx;
  return (batch, tables, partition) => {
    for (const record of batch) {
      let reason: string | undefined;
      try {
        const value = JSON.parse(decoder.decode(record.value ?? new Uint8Array()));
        reason = tables.apply(parseDelta(value));
      } catch (error) {
        reason = `not a window delta: ${(error as Error).message}`;
      }
      if (reason !== undefined && reason !== "late") {
        log.error("processor.window_delta_skipped", {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          reason,
        });
      }
    }
    return tables.drain().map((w) => ({
      topic: topics.windows,
      key: recordKey(feeds.windows, { ...w }),
      value: JSON.stringify(w),
      partition,
    }));
  };
}
