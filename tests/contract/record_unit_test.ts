/** The record contract on its own: names, values, times, keys (unit tests, no broker). */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { feedNameProblem, fieldNameProblem } from "../../src/contract/names.ts";
import {
  keyParts,
  legacyRecordKey,
  normalizeKey,
  recordKey,
  recordProblem,
} from "../../src/contract/record.ts";
import { dayOfTime, DEFAULT_TIME_WINDOW, parseIsoTime } from "../../src/contract/time.ts";
import { decodeText, MAX_ABS_NUMBER, valueProblem } from "../../src/contract/values.ts";
import { findEmails } from "../../src/governance/pii_scan.ts";

const feed = validateFeed({
  name: "C_STREAM",
  kind: "stream",
  primaryKey: ["ID"],
  timeField: "TS",
  columns: { ID: "TEXT", N: "REAL", K: "INTEGER", TS: "TEXT" },
}, "test");

Deno.test("contract: rowid aliases, prototype names and lineage columns are reserved in any case", () => {
  for (
    const name of [
      "rowid",
      "ROWID",
      "oid",
      "_rowid_",
      "constructor",
      "toString",
      "__proto__",
      "hasOwnProperty",
      "valueOf",
      "_SOURCE_FILE",
      "_source_line",
      "_LOADED_AT",
      "_INFERRED",
    ]
  ) assert.match(fieldNameProblem(name) ?? "", /reserved/, name);
  for (const name of ["a b", "", "é", "x;DROP", "1A", "a".repeat(129), 'a"b']) {
    assert.match(fieldNameProblem(name) ?? "", /not a valid field name/, JSON.stringify(name));
  }
  for (const name of ["ID", "_x", "rowid2", "OIDS"]) {
    assert.equal(fieldNameProblem(name), undefined);
  }
  for (const name of ["ACCOUNTS", "PERMISSIONS", "AUDIT_LOG", "JOB_RUNS", "JOB_LOCKS"]) {
    assert.match(feedNameProblem(name) ?? "", /warehouse's own tables/, name);
  }
  assert.match(feedNameProblem("SQLITE_STAT1") ?? "", /SQLITE_/);
  assert.equal(feedNameProblem("ORDERS"), undefined);
});

Deno.test("contract: a record breaking any rule gets a reason; lookups are own properties", () => {
  const good = { ID: "a", N: 1.5, K: 2, TS: "2026-01-01T00:00:00Z" };
  assert.equal(recordProblem(feed, good), undefined);
  const cases: [Record<string, unknown>, RegExp][] = [
    [JSON.parse('{"ID":"a","TS":"2026-01-01","__proto__":1}'), /"__proto__" is a reserved/],
    [{ ...good, rowid: 1 }, /"rowid" is a reserved/],
    [{ ...good, N: 1e303 }, /outside the accepted range/],
    [{ ...good, N: -1e16 }, /outside the accepted range/],
    [{ ...good, N: Infinity }, /not a finite number/],
    [{ ...good, K: 1.5 }, /declared INTEGER/],
    [{ ...good, ID: 7 }, /declared TEXT/],
    [{ ...good, X: { a: 1 } }, /holds an object/],
    [{ ...good, X: [1] }, /holds an array/],
    [{ ...good, ID: "" }, /primary-key field ID is missing/],
    [{ ...good, TS: "9999-12-31T23:59:59-23:59" }, /outside the accepted years 1970–2200/],
    [{ ...good, TS: "0000-01-01T00:00:00+01:00" }, /outside the accepted years/],
    [{ ...good, TS: "2201-01-01T00:00:00Z" }, /outside the accepted years/],
    [{ ...good, TS: "2026-02-30T00:00:00Z" }, /not an ISO 8601 time/],
  ];
  for (const [record, reason] of cases) assert.match(recordProblem(feed, record) ?? "", reason);
  // Declared-only (the API): "constructor" is not a declared column even though {} has one.
  assert.match(
    recordProblem(feed, { ...good, constructor: "x@y.org" }, { declaredOnly: true }) ?? "",
    /reserved/,
  );
  assert.match(recordProblem(feed, { ...good, EXTRA: 1 }, { declaredOnly: true }) ?? "", /unknown/);
  // The window is a setting.
  const wide = { minYear: 0, maxYear: 9999 };
  assert.equal(
    recordProblem(feed, { ...good, TS: "2300-01-01T00:00:00Z" }, { window: wide }),
    undefined,
  );
});

Deno.test("contract: one boolean rule: 0/1 in INTEGER and REAL columns, never TEXT", () => {
  assert.equal(valueProblem(true, "INTEGER"), undefined);
  assert.equal(valueProblem(false, "REAL"), undefined);
  assert.equal(valueProblem(true, undefined), undefined);
  assert.match(valueProblem(true, "TEXT") ?? "", /declared TEXT/);
  assert.equal(valueProblem(MAX_ABS_NUMBER, "REAL"), undefined);
});

Deno.test("contract: times across the year range and zones; the window edges", () => {
  assert.equal(parseIsoTime("1970-01-01T00:00:00Z"), 0);
  assert.equal(parseIsoTime("2026-11-24T23:30:00-02:00"), Date.parse("2026-11-25T01:30:00Z"));
  assert.equal(parseIsoTime("0001-01-01"), Date.parse("0001-01-01T00:00:00Z"));
  assert.equal(parseIsoTime("2026-11-24T24:00:00Z"), null);
  assert.deepEqual(dayOfTime("2200-12-31T23:59:59Z", DEFAULT_TIME_WINDOW), { day: "2200-12-31" });
  assert.deepEqual(dayOfTime("1970-01-01T00:30:00+01:00", DEFAULT_TIME_WINDOW), {
    reason: '"1970-01-01T00:30:00+01:00" is outside the accepted years 1970–2200 (UTC)',
  });
});

Deno.test("contract: composite keys never collide; old '|' keys are read as the new form", () => {
  const table = { primaryKey: ["A", "B"] };
  const one = recordKey(table, { A: "a|b", B: "c" });
  const two = recordKey(table, { A: "a", B: "b|c" });
  assert.notEqual(one, two);
  assert.equal(one, '["a|b","c"]');
  assert.equal(recordKey({ primaryKey: ["A"] }, { A: "x" }), "x", "single keys unchanged");
  assert.equal(normalizeKey(table, "a|1"), '["a","1"]');
  assert.equal(normalizeKey(table, '["a","1"]'), '["a","1"]');
  assert.equal(normalizeKey(table, "a|b|c"), "a|b|c", "ambiguous: left alone");
  assert.equal(legacyRecordKey(table, { A: "a", B: 1 }), "a|1");
  const spending = { primaryKey: ["USER_ID_HASHED", "TRANSACTION_TYPE"] };
  assert.deepEqual(keyParts(spending, '["h","purchase"]'), ["h", "purchase"]);
  assert.deepEqual(keyParts(spending, "h|purchase"), ["h", "purchase"]);
});

Deno.test("contract: strict UTF-8, and a BOM is refused the same way everywhere", () => {
  const enc = new TextEncoder();
  assert.deepEqual(decodeText(enc.encode('{"a":"é"}')), { text: '{"a":"é"}' });
  assert.match(
    (decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])) as { reason: string }).reason,
    /byte-order mark/,
  );
  assert.match(
    (decodeText(new Uint8Array([0x7b, 0xff, 0x7d])) as { reason: string }).reason,
    /not valid UTF-8/,
  );
});

Deno.test("audit-pii patterns: the linear email finder agrees with the regex; 5 MB lines of address-like text hold none", () => {
  const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
  const alphabet = "ab.@-_1%+ xZ9.@@..";
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 20000; n++) {
    let s = "";
    for (let i = Math.floor(random() * 24); i > 0; i--) {
      s += alphabet[Math.floor(random() * alphabet.length)];
    }
    assert.deepEqual(findEmails(s), [...s.matchAll(EMAIL)].map((m) => m[0]), JSON.stringify(s));
  }
  // Long address-like lines with no address (how fast: bench/find_emails.ts).
  for (const line of ["a".repeat(5e6), "a.".repeat(25e5), "a-".repeat(25e5) + "@"]) {
    assert.deepEqual(findEmails(line), []);
  }
});
