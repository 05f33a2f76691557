/**
 * The one fix we apply to kafkajs 2.2.4 itself (tulios/kafkajs#1751, unfixed upstream).
 *
 * Its RequestQueue.scheduleCheckPendingRequests computes `throttledUntil - Date.now()` with
 * `throttledUntil = -1` when nothing is throttled, and arms a timer with that negative delay
 * even when no request is pending. The runtime clamps the delay to 1 ms and prints
 * `TimeoutNegativeWarning: -1796158622970 is a negative number`; the timer then calls
 * checkPendingRequests, which arms it again: an endless 1 ms wake-up per broker connection.
 *
 * The replacement keeps the intent of the original: a check is scheduled only when requests are
 * pending, at the end of the client-side throttle if one is in effect, else after the library's
 * 10 ms polling interval (pending requests waiting on the in-flight limit are also sent as soon
 * as a response frees a slot, by fulfillRequest). Remove this file when kafkajs ships a fix.
 */
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_MS = 10;

interface QueueState {
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

/** Delay before the next pending-request check, or null when no check is needed. */
export function pendingCheckDelay(
  pending: number,
  throttledUntil: number,
  now: number,
): number | null {
  if (pending === 0) return null;
  const throttled = throttledUntil - now;
  return throttled > 0 ? throttled : CHECK_PENDING_MS;
}

function scheduleCheckPendingRequests(this: QueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const delay = pendingCheckDelay(this.pending.length, this.throttledUntil, Date.now());
  if (delay === null) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

let applied = false;

/** Installs the fixed method on kafkajs' RequestQueue (idempotent; called before any client). */
export function fixKafkaJsRequestQueue(): void {
  if (applied) return;
  const proto = (RequestQueue as { prototype: Record<string, unknown> }).prototype;
  if (typeof proto.scheduleCheckPendingRequests !== "function") {
    throw new Error("kafkajs RequestQueue changed: review src/kafka/request_queue_fix.ts");
  }
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  applied = true;
}
