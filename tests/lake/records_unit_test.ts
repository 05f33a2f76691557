/** What one record becomes: partition date, tombstone or rejection with its reason. */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import type { KafkaRecord } from "../../src/kafka/client.ts";
import { classify, eventDay, rejectionLine } from "../../src/lake/records.ts";

const encoder = new TextEncoder();
const NOW = Date.parse("2026-11-24T13:00:00Z");
const KAFKA_TS = Date.parse("2026-10-01T23:30:00Z");

const stream = validateFeed({
  name: "S",
  kind: "stream",
  primaryKey: ["ID"],
  timeField: "TS",
  columns: { ID: "TEXT", AMOUNT: "REAL", COUNT: "INTEGER" },
}, "test");
const noTime = validateFeed({ name: "S2", kind: "stream", primaryKey: ["ID"] }, "test");
const table = validateFeed({ name: "T", kind: "table", primaryKey: ["A", "B"] }, "test");
const fixed = validateFeed({ name: "C", kind: "static", primaryKey: ["CURRENCY"] }, "test");

function rec(value: string | Uint8Array | null, key: string | null = null): KafkaRecord {
  return {
    topic: "S",
    partition: 1,
    offset: "42",
    key: key === null ? null : encoder.encode(key),
    value: typeof value === "string" ? encoder.encode(value) : value,
    timestamp: KAFKA_TS,
    headers: {},
  };
}

Deno.test("records: event day in UTC from the time field, zones included", () => {
  assert.equal(eventDay("2026-11-24T23:59:59Z"), "2026-11-24");
  assert.equal(eventDay("2026-11-24T23:59:59.123456+00:00"), "2026-11-24");
  assert.equal(eventDay("2026-11-24T23:30:00-02:00"), "2026-11-25");
  assert.equal(eventDay("2026-11-25T01:00:00+0200"), "2026-11-24");
  assert.equal(eventDay("2026-11-24 10:00:00"), "2026-11-24");
  assert.equal(eventDay("2026-11-24"), "2026-11-24");
  assert.equal(eventDay("2024-02-29T00:00:00.000000001Z"), "2024-02-29");
  for (
    const bad of [
      "2026-02-30T00:00:00Z",
      "2026-01-01T00:00:00.Z",
      "2026-01-01T00:00:60Z",
      "24/11/2026",
      "2026-11-24T25:00:00Z",
      "",
      17,
      null,
    ]
  ) {
    assert.equal(eventDay(bad), null, String(bad));
  }
});

Deno.test("records: streams by time field or Kafka timestamp; tables and static by write day", () => {
  const value = '{"ID":"x","AMOUNT":2,"COUNT":3,"TS":"2026-01-02T03:04:05Z"}';
  const line = classify(stream, rec(value), NOW);
  assert.equal(line.kind, "line");
  if (line.kind === "line") {
    assert.equal(line.date, "2026-01-02");
    assert.equal(new TextDecoder().decode(line.line), value, "the value as it came");
  }
  const byKafka = classify(noTime, rec('{"ID":"x"}'), NOW);
  assert.equal(byKafka.kind === "line" && byKafka.date, "2026-10-01");
  const row = classify(table, rec('{"A":"a","B":1}'), NOW);
  assert.equal(row.kind === "line" && `${row.date} ${row.key}`, '2026-11-24 ["a","1"]');
  const rate = classify(fixed, rec('{"CURRENCY":"EUR"}'), NOW);
  assert.equal(rate.kind === "line" && rate.date, "2026-11-24");
  // A tombstone keyed the old way ("a|1") is read as the new composite key.
  assert.deepEqual(classify(table, rec(null, "a|1"), NOW), {
    kind: "tombstone",
    key: '["a","1"]',
  });
  // A real U+FFFD character is valid text, not binary garbage.
  assert.equal(classify(noTime, rec('{"ID":"\uFFFD"}'), NOW).kind, "line");
  // A value over several lines is stored compacted, so the file stays one object per line.
  const multi = classify(noTime, rec('{\n  "ID": "m"\n}'), NOW);
  assert.equal(multi.kind === "line" && new TextDecoder().decode(multi.line), '{"ID":"m"}');
});

Deno.test("records: each kind of bad record is rejected with its reason", () => {
  const cases: [KafkaRecord, RegExp, typeof stream][] = [
    [rec("{oops"), /not valid JSON/, stream],
    [rec("42"), /JSON number, not an object/, stream],
    [rec("null"), /JSON null, not an object/, stream],
    [rec(new Uint8Array([0xff, 0x00, 0xc3])), /not valid UTF-8/, stream],
    [rec(null), /empty value/, stream],
    [rec('{"ID":"x"}'), /time field TS is missing/, stream],
    [rec('{"ID":"x","TS":"soon"}'), /TS is not an ISO 8601 time/, stream],
    [rec('{"ID":"x","AMOUNT":"1.5","TS":"2026-01-01"}'), /AMOUNT is declared REAL/, stream],
    [rec('{"ID":"x","COUNT":1.5,"TS":"2026-01-01"}'), /COUNT is declared INTEGER/, stream],
    [rec('{"ID":7,"TS":"2026-01-01"}'), /ID is declared TEXT/, stream],
    [rec('{"AMOUNT":1,"TS":"2026-01-01"}'), /primary-key field ID is missing/, stream],
    [rec(null), /tombstone \(null value\) without a message key/, table],
  ];
  for (const [record, reason, feed] of cases) {
    const c = classify(feed, record, NOW);
    assert.equal(c.kind, "rejected", String(reason));
    if (c.kind === "rejected") assert.match(c.reason, reason);
  }
});

Deno.test("records: a quarantine line carries where it came from, the reason and the raw bytes", () => {
  const raw = new Uint8Array([0x7b, 0xff, 0x7d]);
  const line = JSON.parse(rejectionLine(rec(raw, "k"), "value is not valid UTF-8", NOW));
  assert.deepEqual(line, {
    topic: "S",
    partition: 1,
    offset: "42",
    timestamp: KAFKA_TS,
    kafkaTime: "2026-10-01T23:30:00.000Z",
    reason: "value is not valid UTF-8",
    key: "k",
    valueBase64: "e/99",
    valueUtf8: null,
    rejectedAt: "2026-11-24T13:00:00.000Z",
  });
});
