/**
 * Compares the outputs of our processor and of the Kafka Streams peer, record for record, after
 * bench/process.sh ran both on the same raw topic (BENCH_COMPARE=1). Read with kcat.
 * - streams (TRANSACTIONS_SECURE, _USD, _BLACKLISTED, _<STATUS>): the same TRANSACTION_IDs, each
 *   with the same key and the same value (parsed JSON, so field order and number spelling do
 *   not count; the text is reported apart);
 * - tables: the last value per key (USER_SPENDING_BY_TYPE, USERS) and per window
 *   (SPEND_LAST_FIVE_MIN_BY_TYPE: type and WINDOW_START); how many updates each wrote differs
 *   (caching) and is only shown;
 * - quarantine: the same source offsets with the same reason header.
 * Usage: compare.ts OURS_PREFIX OURS_REJECTED PEER_PREFIX PEER_REJECTED. Exits 1 on a difference.
 */
import { isDeepStrictEqual } from "node:util";
import { STATUSES } from "../../../src/config/settings.ts";

const [oursPrefix, oursRejected, peerPrefix, peerRejected] = Deno.args;
if (!peerRejected) {
  console.error("usage: compare.ts OURS_PREFIX OURS_REJECTED PEER_PREFIX PEER_REJECTED");
  Deno.exit(2);
}
const brokers = Deno.env.get("KAFKA_BROKERS") ?? "localhost:9092";

interface Message {
  key: string;
  value: string;
  headers: string;
}

/** Every message of `topic`, in partition order (kcat -C -e), as key, value and headers. */
async function read(topic: string): Promise<Message[]> {
  const { code, stdout, stderr } = await new Deno.Command("kcat", {
    args: [
      "-b",
      brokers,
      "-C",
      "-t",
      topic,
      "-e",
      "-q",
      "-o",
      "beginning",
      "-f",
      "%k\\x1f%s\\x1f%h\\x1e",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`kcat ${topic}: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout).split("\x1e").filter((m) => m !== "")
    .map((m) => {
      const [key, value, headers] = m.split("\x1f");
      return { key, value, headers };
    });
}

let differences = 0;
const differ = (what: string, detail: string) => {
  differences++;
  if (differences <= 20) console.log(`DIFF ${what}: ${detail}`);
};

async function compareKeyed(
  feed: string,
  keyOf: (m: Message, v: Record<string, unknown>) => string,
  last: boolean,
): Promise<void> {
  const [ours, peer] = await Promise.all([read(oursPrefix + feed), read(peerPrefix + feed)]);
  const index = (messages: Message[]) => {
    const map = new Map<string, { key: string; value: unknown; text: string }>();
    for (const m of messages) {
      const value = JSON.parse(m.value);
      const k = keyOf(m, value);
      if (!last && map.has(k)) differ(feed, `${k} written twice`);
      map.set(k, { key: m.key, value, text: m.value });
    }
    return map;
  };
  const a = index(ours);
  const b = index(peer);
  let sameText = 0;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y) differ(feed, `${k} only in ours`);
    else if (x.key !== y.key) differ(feed, `${k}: key ${x.key} vs ${y.key}`);
    else if (!isDeepStrictEqual(x.value, y.value)) differ(feed, `${k}: ${x.text} vs ${y.text}`);
    else if (x.text === y.text) sameText++;
  }
  for (const k of b.keys()) if (!a.has(k)) differ(feed, `${k} only in the peer`);
  console.log(
    `${feed.padEnd(28)} ${String(a.size).padStart(7)} keys; ${sameText} with the same text; ` +
      `messages: ours ${ours.length}, peer ${peer.length}`,
  );
}

const byId = (_m: Message, v: Record<string, unknown>) => String(v.TRANSACTION_ID);
const byKey = (m: Message) => m.key;
for (const feed of ["TRANSACTIONS_SECURE", "TRANSACTIONS_USD", "TRANSACTIONS_BLACKLISTED"]) {
  await compareKeyed(feed, byId, false);
}
for (const status of STATUSES) {
  await compareKeyed(`TRANSACTIONS_${status.toUpperCase()}`, byId, false);
}
await compareKeyed("USER_SPENDING_BY_TYPE", byKey, true);
await compareKeyed("USERS", byKey, true);
await compareKeyed(
  "SPEND_LAST_FIVE_MIN_BY_TYPE",
  (m, v) => `${m.key} ${v.WINDOW_START}`,
  true,
);

// Quarantine: kcat prints headers as name=value pairs joined by "," (reasons hold commas too).
const HEADER_START = /,(?=(?:reason|source_topic|source_partition|source_offset|value_omitted)=)/;
const headerMap = (h: string) =>
  Object.fromEntries(
    h.split(HEADER_START).map((
      kv,
    ) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
const rejected = async (topic: string) =>
  new Map((await read(topic)).map((m) => {
    const h = headerMap(m.headers);
    return [`${h.source_partition}:${h.source_offset}`, { reason: h.reason, value: m.value }];
  }));
const [qa, qb] = await Promise.all([rejected(oursRejected), rejected(peerRejected)]);
for (const [at, x] of qa) {
  const y = qb.get(at);
  if (!y) differ("quarantine", `${at} only in ours (${x.reason})`);
  else if (x.value !== y.value) differ("quarantine", `${at}: values differ`);
  else if (x.reason !== y.reason) differ("quarantine", `${at}: "${x.reason}" vs "${y.reason}"`);
}
for (const at of qb.keys()) if (!qa.has(at)) differ("quarantine", `${at} only in the peer`);
console.log(`${"quarantine".padEnd(28)} ${String(qa.size).padStart(7)} records`);
console.log(differences === 0 ? "compare: same outputs" : `compare: ${differences} differences`);
Deno.exit(differences === 0 ? 0 : 1);
