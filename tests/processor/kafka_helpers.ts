/** Reading topics back in processor tests, as a lake consumer would (read_committed). */
import type { KafkaClient, KafkaRecord, PartitionOffset } from "../../src/kafka/client.ts";
import { uniqueName } from "../helpers/env.ts";

const decoder = new TextDecoder();

export interface ReadRecord {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Every committed record of `topic` (or those after `from`, the ends captured earlier): a fresh
 * group whose start is placed at `from` with an offsets-only transaction.
 */
export async function readTopic(
  kafka: KafkaClient,
  topic: string,
  from?: PartitionOffset[],
): Promise<ReadRecord[]> {
  const groupId = uniqueName("read").toLowerCase();
  if (from && from.length > 0) {
    const tx = await kafka.transactionalProducer(uniqueName("seek"));
    await tx.sendWithOffsets([], {
      generation: { groupId, memberId: "", generationId: -1 },
      offsets: from,
    });
    await tx.close();
  }
  const out: ReadRecord[] = [];
  const handle = await kafka.consume({
    groupId,
    topics: [topic],
    commit: false,
    readCommitted: true,
    stopWhenCaughtUp: true,
    onBatch: (batch) => {
      out.push(...batch.records.map(toReadRecord));
      return Promise.resolve();
    },
  });
  await handle.done;
  return out;
}

function toReadRecord(r: KafkaRecord): ReadRecord {
  return {
    key: r.key === null ? null : decoder.decode(r.key),
    value: r.value === null ? null : decoder.decode(r.value),
    headers: r.headers,
    partition: r.partition,
    offset: r.offset,
  };
}

/** The current state of a changelog: last value per key, tombstones applied. */
export function latestByKey(records: ReadRecord[]): Map<string, Record<string, unknown>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) state.delete(r.key);
    else state.set(r.key, JSON.parse(r.value));
  }
  return state;
}

/** Lowercase hex HMAC-SHA256, computed here with Web Crypto rather than with the product's code. */
export async function expectedHmac(secret: string, value: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(value)));
  return Array.from(sig, (b) => b.toString(16).padStart(2, "0")).join("");
}
