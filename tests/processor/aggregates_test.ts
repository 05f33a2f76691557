/** Aggregates' bounds (evicted windows, refused overflows) and the cached HMAC. */
import assert from "node:assert/strict";
import { WINDOW_GRACE_MS } from "../../src/processor/windows.ts";
import { Aggregates } from "./pipeline.ts";
import { hmacKey } from "../../src/processor/pseudonymize.ts";
import { cachingHasher, type UsdTransaction } from "../../src/processor/transform.ts";
import { expectedHmac } from "./kafka_helpers.ts";

const usd = (amount: number, ms: number, user = "u1"): UsdTransaction => ({
  TRANSACTION_ID: "T",
  USER_ID_HASHED: user,
  USER_NAME_HASHED: "n",
  EMAIL_HASHED: "e",
  TRANSACTION_TYPE: "purchase",
  AMOUNT: amount,
  CURRENCY: "USD",
  STATUS: "completed",
  CITY: "c",
  COUNTRY: "x",
  IP_MASKED: "i",
  STREET_MASKED: "s",
  TIMESTAMP: new Date(ms).toISOString(),
  AMOUNT_USD: amount,
  TARGET_CURRENCY: "USD",
});

Deno.test("Aggregates: windows past the grace period are evicted; state stays bounded over a long stream", () => {
  const agg = new Aggregates({ graceMs: 60 * 60 * 1000 }); // one hour
  const start = Date.parse("2026-01-01T00:00:00Z");
  // Ten days of one event a minute: 2,880 windows without eviction.
  for (let m = 0; m < 10 * 24 * 60; m++) {
    assert.equal(agg.apply(usd(1, start + m * 60_000), start + m * 60_000), undefined);
    if (m % 100 === 0) agg.drain();
  }
  agg.drain();
  // An hour of grace keeps about 12 five-minute windows (plus those since the last drain).
  assert.ok(agg.sizes().windows <= 14, `windows kept: ${agg.sizes().windows}`);
  assert.ok(agg.counters().evictedWindows > 2800);

  // Late: its window ended more than an hour before the newest event.
  const newest = start + (10 * 24 * 60 - 1) * 60_000;
  assert.equal(agg.apply(usd(5, newest - 2 * 3600_000), newest - 2 * 3600_000), undefined);
  const updates = agg.drain();
  assert.equal(updates.windows.length, 0);
  assert.equal(updates.userSpending[0].TRANSACTION_COUNT, 10 * 24 * 60 + 1);
  assert.equal(agg.counters().lateEvents, 1);
  assert.equal(WINDOW_GRACE_MS, 7 * 24 * 3600_000);
});

Deno.test("Aggregates: an amount that would leave the exact range is refused and changes nothing", () => {
  const agg = new Aggregates();
  const t = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(agg.apply(usd(10, t), t), undefined);
  agg.drain();
  assert.match(agg.apply(usd(Infinity, t), t)!, /AMOUNT_USD/);
  assert.match(agg.apply(usd(1e303, t), t)!, /AMOUNT_USD/);
  assert.equal(agg.apply(usd(9e9, t), t), undefined);
  assert.match(agg.apply(usd(9e9, t), t)!, /TOTAL_AMOUNT_USD/);
  // Another user's total is far from the limit, but the shared window's is not.
  assert.match(agg.apply(usd(9e9, t, "u2"), t)!, /window/);
  const updates = agg.drain();
  assert.equal(updates.userSpending.length, 1);
  assert.equal(updates.userSpending[0].TOTAL_AMOUNT_USD, 9e9 + 10);
  assert.equal(updates.windows[0].TOTAL_AMOUNT_USD, 9e9 + 10);
  assert.equal(updates.users.length, 1);
});

Deno.test("cachingHasher: the HMAC-SHA256 of Web Crypto, remembered up to its bound", async () => {
  const hash = cachingHasher(hmacKey("s3cret"), 3);
  for (const v of ["a", "b", "c", "d", "a", "émile", "b"]) {
    assert.equal(hash(v), await expectedHmac("s3cret", v), v);
  }
});
