import assert from "node:assert/strict";
import { flowSummary } from "../../src/service/flow.ts";
import { FlowHistory } from "../../src/service/history.ts";
import { ServiceStats } from "../../src/service/stats.ts";
import { TtlCache } from "../../src/service/status_cache.ts";

function counters() {
  const state = { users: 0, usd: 0, rejected: 0, in: 0, out: 0, bad: 0 };
  const stats = new ServiceStats();
  stats.lake = () => ({
    USERS: { consumed: state.users, rejected: 0 },
    TRANSACTIONS_USD: { consumed: state.usd, rejected: state.rejected },
  });
  stats.processor = () => ({
    recordsIn: state.in,
    rejected: state.bad,
    out: { TRANSACTIONS_USD: state.out, USERS: state.out },
  });
  return { state, stats };
}

Deno.test("history: rates per minute between samples, last record time, bounded to capacity", () => {
  const { state, stats } = counters();
  let now = Date.parse("2026-12-01T10:00:00Z");
  const history = new FlowHistory(stats, { intervalMs: 10_000, capacity: 5, now: () => now });
  history.sample();
  state.usd = 20; // 20 in 10 s = 120 per minute
  state.in = 20;
  state.out = 30;
  now += 10_000;
  history.sample();
  const view = history.view();
  assert.deepEqual(view.times, ["2026-12-01T10:00:10.000Z"]);
  assert.deepEqual(view.lake, { USERS: [0], TRANSACTIONS_USD: [120] });
  assert.deepEqual(view.processorIn, [120]);
  assert.deepEqual(view.processorOut, [360]);
  assert.equal(view.feeds.TRANSACTIONS_USD.lastRecordAt, "2026-12-01T10:00:10.000Z");
  assert.equal(view.feeds.USERS.lastRecordAt, null);
  assert.equal(view.feeds.TRANSACTIONS_USD.records, 20);
  assert.equal(view.processor, true);

  for (let i = 0; i < 20; i++) {
    now += 10_000;
    history.sample();
  }
  assert.equal(history.samples().length, 5);
  assert.equal(history.view().times.length, 4);
  assert.equal(history.view().lake.USERS.length, 4);
  assert.equal(history.view().feeds.TRANSACTIONS_USD.lastRecordAt, "2026-12-01T10:00:10.000Z");
});

Deno.test("history: default capacity keeps one hour of samples", () => {
  const { stats } = counters();
  let now = 0;
  const history = new FlowHistory(stats, { intervalMs: 10_000, now: () => now });
  for (let i = 0; i < 1000; i++, now += 10_000) history.sample();
  const kept = history.samples();
  assert.ok(kept.length <= 362, String(kept.length));
  assert.ok(kept.at(-1)!.t - kept[0].t >= 3_600_000);
});

Deno.test("flow summary: what moved in the lake and the processor, or nothing when idle", () => {
  const { state, stats } = counters();
  let now = 0;
  const history = new FlowHistory(stats, { now: () => now });
  const a = history.sample();
  assert.equal(flowSummary(a, history.sample(), true), null);
  state.users = 3;
  state.usd = 60;
  state.rejected = 1;
  state.in = 61;
  state.out = 60;
  state.bad = 1;
  now = 30_000;
  assert.deepEqual(flowSummary(a, history.sample(), true), {
    seconds: 30,
    lakeTotal: 63,
    lake: { USERS: 3, TRANSACTIONS_USD: 60 },
    processorIn: 61,
    processorOut: 120,
    quarantined: 2,
  });
});

Deno.test("TTL cache: one computation per key within the TTL, shared by concurrent callers", async () => {
  let now = 0;
  const cache = new TtlCache(3000, () => now);
  let calls = 0;
  const load = () => new Promise<number>((resolve) => setTimeout(() => resolve(++calls), 5));
  const [a, b] = await Promise.all([cache.get("k", load), cache.get("k", load)]);
  assert.equal(a, 1);
  assert.equal(b, 1);
  now = 2999;
  assert.equal(await cache.get("k", load), 1);
  now = 3000;
  assert.equal(await cache.get("k", load), 2);
  // A failure is not kept.
  await assert.rejects(cache.get("bad", () => Promise.reject(new Error("down"))));
  assert.equal(await cache.get("bad", () => 7), 7);
});
