/**
 * Issue 10 item 1 (and 2, 3, 6, 11 where they pass through Kafka): no record is a poison pill.
 * Each bad class sits between good records on a real broker; `consume --once` and the processor
 * must finish, every good record arrive once, every bad one be quarantined with its reason.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { isolatedTopics } from "../processor/fixtures.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import {
  feedsFile,
  jsonLines,
  produceBytes,
  produceWithTimestamps,
  unsafeLakePaths,
  walk,
} from "./_helpers.ts";
import { testWithKcat } from "../helpers/needs.ts";

const good = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ID: id, N: 1.5, TS: "2026-11-20T10:00:00Z", ...extra });

/** Bad stream records and the reason each must be quarantined with. */
const BAD_STREAM: [string | Uint8Array, RegExp][] = [
  [good("B1", { TS: "9999-12-31T23:59:59-23:59" }), /TS .*outside the accepted years/],
  [good("B2", { TS: "0000-01-01T00:00:00+01:00" }), /TS .*outside the accepted years/],
  [good("B3", { rowid: 5 }), /"rowid" is a reserved name/],
  [good("B4", { _ROWID_: 5 }), /"_ROWID_" is a reserved name/],
  [
    '{"ID":"B5","N":1,"TS":"2026-11-20T10:00:00Z","__proto__":{"x":1}}',
    /"__proto__" is a reserved/,
  ],
  [good("B6", { constructor: "jane@example.org" }), /"constructor" is a reserved/],
  [good("B7", { N: 1e303 }), /N 1e\+303 is outside the accepted range/],
  ['{"ID":"B8","N":1e400,"TS":"2026-11-20T10:00:00Z"}', /N is not a finite number/],
  [`\uFEFF${good("B9")}`, /byte-order mark/],
  [new Uint8Array([0x7b, 0x22, 0x49, 0xff, 0x22, 0x7d]), /not valid UTF-8/],
  [good("B10", { _SOURCE_FILE: "x" }), /"_SOURCE_FILE" is a reserved/],
];

testWithKcat(
  "consume --once: out-of-range times, reserved names, huge numbers, a BOM and bad Kafka timestamps are quarantined; the partition moves on",
  async () => {
    const stream = uniqueName("HS_STREAM");
    const ktime = uniqueName("HS_KTIME");
    const config = await testConfig();
    const file = await feedsFile(config.root, [
      {
        name: stream,
        kind: "stream",
        primaryKey: ["ID"],
        timeField: "TS",
        columns: { ID: "TEXT", N: "REAL", TS: "TEXT" },
      },
      { name: ktime, kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT" } },
    ]);
    try {
      const values: (string | Uint8Array)[] = [good("G0")];
      BAD_STREAM.forEach(([bad], i) => values.push(bad, good(`G${i + 1}`)));
      await produceBytes(stream, values);
      // Kafka timestamps past what a Date can hold (9e15) or write as YYYY (8e15 is year 255513).
      await produceWithTimestamps(ktime, [
        { value: '{"ID":"K1"}', timestamp: String(Date.parse("2026-11-20T10:00:00Z")) },
        { value: '{"ID":"KB1"}', timestamp: "9000000000000000" },
        { value: '{"ID":"K2"}', timestamp: String(Date.parse("2026-11-21T10:00:00Z")) },
        { value: '{"ID":"KB2"}', timestamp: "8000000000000000" },
        { value: '{"ID":"K3"}', timestamp: String(Date.parse("2026-11-22T10:00:00Z")) },
      ]);

      const env = { ...envOf(config), FEEDS_FILE: file };
      const run = await runMain(["consume", "--once", "--feeds", `${stream},${ktime}`], env);
      assert.equal(run.code, 0, run.stderr);
      // A second run finds nothing new and fails on nothing.
      const again = await runMain(["consume", "--once", "--feeds", `${stream},${ktime}`], env);
      assert.equal(again.code, 0, again.stderr);

      const lake = config.dataLakeDir;
      const ids = (await jsonLines(lake, `${stream}/`)).filter((l) => !("reason" in l)).map((l) =>
        l.ID
      );
      assert.deepEqual(ids.sort(), BAD_STREAM.map((_, i) => `G${i + 1}`).concat("G0").sort());
      const rejected = await jsonLines(lake, `_rejected/${stream}/`);
      assert.equal(rejected.length, BAD_STREAM.length);
      for (const [, reason] of BAD_STREAM) {
        assert.ok(rejected.some((r) => reason.test(String(r.reason))), `a rejection ${reason}`);
      }
      const kIds = (await jsonLines(lake, `${ktime}/`)).filter((l) => !("reason" in l));
      assert.deepEqual(kIds.map((l) => l.ID).sort(), ["K1", "K2", "K3"]);
      const kRejected = await jsonLines(lake, `_rejected/${ktime}/`);
      assert.deepEqual(kRejected.map((r) => String(r.reason).replace(/\d+/g, "N")), [
        "Kafka timestamp N is outside the accepted years N–N (UTC)",
        "Kafka timestamp N is outside the accepted years N–N (UTC)",
      ]);
      assert.deepEqual(
        unsafeLakePaths(await walk(lake)),
        [],
        "only YYYY-MM-DD folders in 1970–2200",
      );
    } finally {
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
);

const RATES = [{ CURRENCY: "USD", RATE_TO_USD: 1 }, { CURRENCY: "EUR", RATE_TO_USD: 1.1 }];

function rawTx(id: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    TRANSACTION_ID: id,
    USER_ID: "U00001",
    USER_NAME: "Alice Martin",
    EMAIL: "alice.martin@example.com",
    TRANSACTION_TYPE: "purchase",
    AMOUNT: 10,
    CURRENCY: "EUR",
    STATUS: "completed",
    CITY: "Paris",
    COUNTRY: "France",
    IP_ADDRESS: "192.168.1.77",
    STREET: "12 Rue de la Paix",
    TIMESTAMP: "2026-11-20T10:00:00.000Z",
    ...extra,
  });
}

const BAD_RAW: [string | Uint8Array, RegExp][] = [
  [rawTx("TXN-B1", { TIMESTAMP: "9999-12-31T23:59:59-23:59" }), /outside the accepted years/],
  [rawTx("TXN-B2", { TIMESTAMP: "0000-01-01T00:00:00+01:00" }), /outside the accepted years/],
  [rawTx("TXN-B3", { AMOUNT: 1e303 }), /AMOUNT 1e\+303 is larger than the accepted/],
  [`\uFEFF${rawTx("TXN-B4")}`, /byte-order mark/],
  [new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(rawTx("TXN-B5"))]), /byte-order/],
  [rawTx("TXN-B6", { TIMESTAMP: "2201-01-01T00:00:00Z" }), /outside the accepted years/],
];

testWithKcat(
  "process --once: raw records with out-of-range times, huge amounts or a BOM are quarantined with a reason; the good ones pass",
  async () => {
    const topics = isolatedTopics();
    const kafka = testKafka();
    try {
      await kafka.ensureTopics([{ topic: topics.raw, partitions: 1 }, { topic: topics.rates }]);
      const producer = await kafka.producer();
      await producer.send(RATES.map((r) => ({
        topic: topics.rates,
        key: r.CURRENCY,
        value: JSON.stringify(r),
      })));
      await producer.close();
      const values: (string | Uint8Array)[] = [rawTx("TXN-G0")];
      BAD_RAW.forEach(([bad], i) => values.push(bad, rawTx(`TXN-G${i + 1}`)));
      await produceBytes(topics.raw, values);

      const config = await testConfig();
      const processor = startProcessor({ config, kafka, log: silentLogger, once: true, topics });
      const stats = await processor.done;
      assert.equal(stats.rejected, BAD_RAW.length);

      const secure = await readTopic(kafka, topics.secure);
      assert.deepEqual(
        secure.map((r) => JSON.parse(r.value!).TRANSACTION_ID).sort(),
        BAD_RAW.map((_, i) => `TXN-G${i + 1}`).concat("TXN-G0").sort(),
      );
      const rejected = await readTopic(kafka, topics.rejected);
      assert.equal(rejected.length, BAD_RAW.length);
      for (const [, reason] of BAD_RAW) {
        assert.ok(rejected.some((r) => reason.test(r.headers.reason)), `a rejection ${reason}`);
      }
      // Nothing out of range reached the aggregates.
      for (const r of await readTopic(kafka, topics.userSpending)) {
        assert.ok(Number.isFinite(JSON.parse(r.value!).TOTAL_AMOUNT_USD), r.value!);
      }
    } finally {
      await kafka.close();
    }
  },
);
