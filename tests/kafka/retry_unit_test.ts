import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { ConfigError, UnavailableError } from "../../src/core/errors.ts";
import { Logger } from "../../src/core/log.ts";
import {
  isTransientKafkaError,
  KafkaHealth,
  retryKafka,
  type RetryPolicy,
  rootMessage,
} from "../../src/kafka/retry.ts";

// kafkajs' own error classes, as its clients throw them.
const {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} = kafkajs as unknown as Record<string, new (...args: unknown[]) => Error>;

function refused() {
  return new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:19092", {
    broker: "127.0.0.1:19092",
    code: "ECONNREFUSED",
  });
}

function protocol(type: string, retriable: boolean) {
  return new KafkaJSProtocolError({ message: `${type} happened`, type, code: 1, retriable });
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({ level: "debug", sink: { write: (l) => lines.push(JSON.parse(l)) } });
  return { log, lines };
}

const FAST: RetryPolicy = { initialMs: 5, maxMs: 20, logWindowMs: 60_000 };

Deno.test("retry: outages are transient, configuration and our own failures are not", () => {
  assert.ok(isTransientKafkaError(refused()));
  assert.ok(
    isTransientKafkaError(new KafkaJSNumberOfRetriesExceeded(refused(), { retryCount: 5 })),
  );
  assert.ok(isTransientKafkaError(protocol("UNKNOWN_TOPIC_OR_PARTITION", true)));
  assert.ok(isTransientKafkaError(protocol("LEADER_NOT_AVAILABLE", true)));
  assert.ok(isTransientKafkaError(protocol("COORDINATOR_NOT_AVAILABLE", true)));
  assert.ok(
    isTransientKafkaError(new UnavailableError("Kafka is not reachable: x", { cause: refused() })),
  );
  assert.ok(isTransientKafkaError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })));

  assert.ok(!isTransientKafkaError(protocol("TOPIC_AUTHORIZATION_FAILED", false)));
  assert.ok(!isTransientKafkaError(protocol("INVALID_REPLICATION_FACTOR", false)));
  assert.ok(!isTransientKafkaError(new KafkaJSSASLAuthenticationError("bad password")));
  assert.ok(!isTransientKafkaError(new ConfigError("KAFKA_BROKERS is empty")));
  assert.ok(!isTransientKafkaError(new UnavailableError("Cannot listen on port 8080")));
  assert.ok(!isTransientKafkaError(new Deno.errors.NotFound("no such file")));
  assert.ok(!isTransientKafkaError(new Error("disk full")));

  assert.equal(
    rootMessage(new UnavailableError("Kafka is not reachable: x", { cause: refused() })),
    "Connection error: connect ECONNREFUSED 127.0.0.1:19092",
  );
});

Deno.test("retry: waits out a transient failure, one warning for the window, one recovery line", async () => {
  const { log, lines } = capture();
  const health = new KafkaHealth();
  let calls = 0;
  const result = await retryKafka("topics", () => {
    calls++;
    if (calls <= 4) return Promise.reject(refused());
    return Promise.resolve("ok");
  }, { policy: FAST, log, brokers: ["127.0.0.1:19092"], health });
  assert.equal(result, "ok");
  assert.equal(calls, 5);
  assert.equal(lines.filter((l) => l.event === "kafka.unavailable").length, 1);
  const recovered = lines.filter((l) => l.event === "kafka.recovered");
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0].attempts, 4);
  assert.equal(health.snapshot().up, true);
});

Deno.test("retry: a bounded wait gives up with one clear line; a fatal error is not retried", async () => {
  const { log } = capture();
  const health = new KafkaHealth();
  await assert.rejects(
    retryKafka("consume", () => Promise.reject(refused()), {
      policy: { ...FAST, giveUpAfterMs: 50 },
      log,
      brokers: ["127.0.0.1:19092"],
      health,
    }),
    (error: Error) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(
        error.message,
        "Kafka is not reachable at 127.0.0.1:19092: " +
          "Connection error: connect ECONNREFUSED 127.0.0.1:19092",
      );
      return true;
    },
  );
  const down = health.snapshot();
  assert.equal(down.up, false);
  assert.match(down.error!, /ECONNREFUSED/);

  let calls = 0;
  await assert.rejects(
    retryKafka("topics", () => {
      calls++;
      return Promise.reject(protocol("TOPIC_AUTHORIZATION_FAILED", false));
    }, { policy: FAST, log, brokers: ["b:1"] }),
    /TOPIC_AUTHORIZATION_FAILED/,
  );
  assert.equal(calls, 1);
});
