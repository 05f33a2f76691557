import assert from "node:assert/strict";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { fixKafkaJsRequestQueue, pendingCheckDelay } from "../../src/kafka/request_queue_fix.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue() {
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:1",
    logger: quiet,
  });
}

Deno.test("request queue fix: no pending request, no throttle → no check, never a negative delay", () => {
  assert.equal(pendingCheckDelay(0, -1, Date.now()), null);
  assert.equal(pendingCheckDelay(0, Date.now() + 500, Date.now()), null);
  assert.equal(pendingCheckDelay(2, -1, Date.now()), 10);
  const now = Date.now();
  assert.equal(pendingCheckDelay(1, now + 500, now), 500);
});

Deno.test("request queue fix: kafkajs' own RequestQueue arms no timer when nothing waits", () => {
  fixKafkaJsRequestQueue();
  const q = queue();
  try {
    // What every answered request does (fulfillRequest): the unfixed code arms a timer with
    // delay -1 - Date.now() here, and re-arms it every millisecond from then on.
    q.checkPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, null);

    // A request waiting (in-flight limit or throttle) still gets its check, with a real delay.
    q.pending.push({});
    q.maybeThrottle(200);
    const sent: unknown[] = [];
    q.sendSocketRequest = (r: unknown) => sent.push(r);
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null);
  } finally {
    q.destroy();
  }
});
