import assert from "node:assert/strict";
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  TimeoutError,
} from "@platformatic/kafka";
import { ConfigError, UnavailableError } from "../../src/core/errors.ts";
import { Logger } from "../../src/core/log.ts";
import { KafkaAccessError } from "../../src/kafka/errors.ts";
import {
  isTransientKafkaError,
  KafkaHealth,
  retryKafka,
  type RetryPolicy,
  rootMessage,
} from "../../src/kafka/retry.ts";

// The library's own error classes, as its clients throw them.
function refused() {
  const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:19092"), {
    code: "ECONNREFUSED",
  });
  return new NetworkError("Connection to 127.0.0.1:19092 failed.", { cause: socket });
}

function protocol(apiId: string) {
  return new ProtocolError(apiId);
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({ level: "debug", sink: { write: (l) => lines.push(JSON.parse(l)) } });
  return { log, lines };
}

const FAST: RetryPolicy = { initialMs: 5, maxMs: 20, logWindowMs: 60_000 };

Deno.test("retry: outages are transient, configuration and our own failures are not", () => {
  assert.ok(isTransientKafkaError(refused()));
  assert.ok(isTransientKafkaError(new MultipleErrors("fetch failed 3 times.", [refused()])));
  assert.ok(isTransientKafkaError(new TimeoutError("Request timed out")));
  assert.ok(isTransientKafkaError(protocol("UNKNOWN_TOPIC_OR_PARTITION")));
  assert.ok(isTransientKafkaError(protocol("LEADER_NOT_AVAILABLE")));
  assert.ok(isTransientKafkaError(protocol("COORDINATOR_NOT_AVAILABLE")));
  assert.ok(isTransientKafkaError(protocol("NOT_ENOUGH_REPLICAS")));
  assert.ok(
    isTransientKafkaError(new UnavailableError("Kafka is not reachable: x", { cause: refused() })),
  );
  assert.ok(isTransientKafkaError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })));

  assert.ok(!isTransientKafkaError(protocol("TOPIC_AUTHORIZATION_FAILED")));
  assert.ok(!isTransientKafkaError(protocol("INVALID_REPLICATION_FACTOR")));
  assert.ok(!isTransientKafkaError(new AuthenticationError("SASL authentication failed.")));
  assert.ok(
    !isTransientKafkaError(
      new MultipleErrors("x", [refused(), new AuthenticationError("SASL authentication failed.")]),
    ),
  );
  assert.ok(!isTransientKafkaError(new KafkaAccessError("refused", "KAFKA_SASL_PASSWORD")));
  assert.ok(!isTransientKafkaError(new ConfigError("KAFKA_BROKERS is empty")));
  assert.ok(!isTransientKafkaError(new UnavailableError("Cannot listen on port 8080")));
  assert.ok(!isTransientKafkaError(new Deno.errors.NotFound("no such file")));
  assert.ok(!isTransientKafkaError(new Error("disk full")));

  assert.equal(
    rootMessage(new UnavailableError("Kafka is not reachable: x", { cause: refused() })),
    "connect ECONNREFUSED 127.0.0.1:19092",
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
        "Kafka is not reachable at 127.0.0.1:19092: connect ECONNREFUSED 127.0.0.1:19092",
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
      return Promise.reject(protocol("TOPIC_AUTHORIZATION_FAILED"));
    }, { policy: FAST, log, brokers: ["b:1"] }),
    (error: Error) => (error as Error & { apiId: string }).apiId === "TOPIC_AUTHORIZATION_FAILED",
  );
  assert.equal(calls, 1);
});

Deno.test("retry: refused access stops a bounded wait at once and is retried by a forever wait", async () => {
  const { log, lines } = capture();
  const refusedAccess = () =>
    Promise.reject(
      new KafkaAccessError(
        "Kafka refused the credentials of KAFKA_SASL_USERNAME=u",
        "KAFKA_SASL_PASSWORD",
      ),
    );
  let calls = 0;
  await assert.rejects(
    retryKafka("consume", () => (calls++, refusedAccess()), {
      policy: { ...FAST, giveUpAfterMs: 60_000 },
      log,
      brokers: ["b:1"],
    }),
    KafkaAccessError,
  );
  assert.equal(calls, 1);

  const health = new KafkaHealth();
  calls = 0;
  const result = await retryKafka("consume", () => {
    calls++;
    return calls <= 2 ? refusedAccess() : Promise.resolve("ok");
  }, { policy: FAST, log, brokers: ["b:1"], health });
  assert.equal(result, "ok");
  assert.equal(calls, 3);
  const warned = lines.filter((l) => l.event === "kafka.access_refused");
  assert.equal(warned.length, 1);
  assert.equal(warned[0].setting, "KAFKA_SASL_PASSWORD");
});

Deno.test("retry: a producer id the cluster cannot give yet (a fresh cluster) is waited out", () => {
  // What InitProducerId fails with while a new cluster elects leaders and creates its
  // transaction log, as the library reports it after its own attempts.
  const members = [
    ["COORDINATOR_NOT_AVAILABLE", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_NOT_AVAILABLE"],
    ["COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS"],
    ["NOT_ENOUGH_REPLICAS", "CONCURRENT_TRANSACTIONS", "BROKER_NOT_AVAILABLE"],
  ];
  for (const codes of members) {
    const error = new MultipleErrors("initProducerId failed 3 times.", codes.map(protocol));
    assert.ok(isTransientKafkaError(error), codes.join(","));
  }
  assert.ok(isTransientKafkaError(
    new MultipleErrors("initProducerId failed 3 times.", [refused(), refused(), refused()]),
  ));
  assert.ok(isTransientKafkaError(
    new MultipleErrors("initProducerId failed 2 times.", [
      protocol("COORDINATOR_NOT_AVAILABLE"),
      new TimeoutError("Request timed out"),
    ]),
  ));
});
