/**
 * A cold start is not an outage: a broker still creating topics answers with errors for a few
 * seconds, and under WAIT_FOREVER's quietMs that shows at debug only; a longer outage warns.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/core/log.ts";
import { Outage, retryKafka, type RetryPolicy, WAIT_FOREVER } from "../../src/kafka/retry.ts";

const QUIET: RetryPolicy = { initialMs: 5, maxMs: 20, logWindowMs: 60_000, quietMs: 15_000 };

/** A failure every Kafka client classifies as transient (the socket's own code). */
function refused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:19092"), { code: "ECONNREFUSED" });
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({ level: "debug", sink: { write: (l) => lines.push(JSON.parse(l)) } });
  const shown = () => lines.filter((l) => l.level !== "debug").map((l) => l.event);
  return { log, lines, shown };
}

Deno.test("retry: serve's policy keeps a short outage (a cold start) quiet", () => {
  assert.ok((WAIT_FOREVER.quietMs ?? 0) >= 5_000, "a few seconds of settling are quiet");
});

for (const failures of [1, 3, 6]) {
  Deno.test(`retry: ${failures} quick failures under quietMs: debug lines only, no warning`, async () => {
    const { log, lines, shown } = capture();
    let calls = 0;
    const result = await retryKafka("lake consumer", () => {
      calls++;
      return calls <= failures ? Promise.reject(refused()) : Promise.resolve("ok");
    }, { policy: QUIET, log, brokers: ["127.0.0.1:19092"] });
    assert.equal(result, "ok");
    assert.deepEqual(shown(), [], "nothing above debug");
    assert.equal(lines.filter((l) => l.event === "kafka.settling").length, failures);
    assert.equal(lines.filter((l) => l.event === "kafka.settled").length, 1);
  });
}

Deno.test("retry: an outage that outlasts quietMs warns once and says when it ends", async () => {
  const { log, shown } = capture();
  const outage = new Outage("processor", { policy: QUIET, log, brokers: ["127.0.0.1:19092"] });
  // The failed attempt began 16 s ago (a client that waited out its own timeouts).
  await outage.failed(refused(), Date.now() - 16_000);
  await outage.failed(refused());
  outage.succeeded();
  assert.deepEqual(shown(), ["kafka.unavailable", "kafka.recovered"]);
});

Deno.test("retry: without quietMs the first failure warns (one-shot tools, tests)", async () => {
  const { log, shown } = capture();
  const { quietMs: _, ...loud } = QUIET;
  let calls = 0;
  await retryKafka("topics", () => ++calls <= 2 ? Promise.reject(refused()) : Promise.resolve(1), {
    policy: loud,
    log,
    brokers: ["127.0.0.1:19092"],
  });
  assert.deepEqual(shown(), ["kafka.unavailable", "kafka.recovered"]);
});
