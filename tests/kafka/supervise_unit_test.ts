import assert from "node:assert/strict";
import { StorageError, UnavailableError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { OutgoingRecord, Producer } from "../../src/kafka/client.ts";
import { lazyProducer } from "../../src/kafka/lazy_producer.ts";
import { KafkaHealth, type RetryContext } from "../../src/kafka/retry.ts";
import { type Part, supervise } from "../../src/kafka/supervise.ts";

function refused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:19092"), {
    name: "NetworkError",
    code: "ECONNREFUSED",
  });
}

const HOUR = 3_600_000;

function ctx(extra: Partial<RetryContext> = {}): RetryContext {
  return {
    policy: { initialMs: 5, maxMs: 20, logWindowMs: 60_000 },
    log: silentLogger,
    brokers: ["127.0.0.1:19092"],
    ...extra,
  };
}

/** A part that fails (or ends) when told to. */
function part() {
  let settle!: { resolve: (v: string) => void; reject: (e: unknown) => void };
  const done = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  let stops = 0;
  const p: Part<string> & { stops(): number } = {
    done,
    stop() {
      stops++;
      settle.resolve("stopped");
      return Promise.resolve();
    },
    stops: () => stops,
  };
  return { p, fail: (e: unknown) => settle.reject(e), end: (v: string) => settle.resolve(v) };
}

Deno.test("supervise: a start that fails with an outage is retried; a part that fails is restarted", async () => {
  const health = new KafkaHealth();
  const made: ReturnType<typeof part>[] = [];
  let starts = 0;
  const sup = supervise("lake consumer", () => {
    starts++;
    if (starts <= 2) throw refused(); // broker not there yet
    const next = part();
    made.push(next);
    return next.p;
  }, ctx({ health }));

  while (made.length < 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal(health.snapshot().up, false);
  made[0].fail(refused()); // a broker restart under the running part
  while (made.length < 2) await new Promise((r) => setTimeout(r, 5));
  assert.equal(made[0].p.stops(), 1, "the failed instance is stopped before the next starts");
  assert.equal(sup.current(), made[1].p);
  made[1].end("caught up");
  assert.equal(await sup.done, "caught up");
});

Deno.test("supervise: any other error ends it; stop() during the wait returns promptly", async () => {
  const fatal = part();
  const sup = supervise("processor", () => fatal.p, ctx());
  fatal.fail(new Error("disk full"));
  await assert.rejects(sup.done, /disk full/);

  let attempts = 0;
  const waiting = supervise(
    "processor",
    () => {
      attempts++;
      return Promise.reject(refused());
    },
    ctx({ policy: { initialMs: HOUR, maxMs: HOUR, logWindowMs: HOUR } }),
  );
  while (attempts < 1) await new Promise((r) => setTimeout(r, 5)); // the first start failed
  await new Promise((r) => setTimeout(r, 0)); // and its outage reached the wait
  // stop() cuts the hour's wait short: it settles while the wait still has most of an hour to go
  // (a stop that sat out the wait would hit the bound below, a failure, not a measurement).
  let bound: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    waiting.stop().then(() => "stopped"),
    new Promise((r) => bound = setTimeout(() => r("still waiting after 60 s"), 60_000)),
  ]);
  clearTimeout(bound);
  assert.equal(outcome, "stopped");
  assert.equal(await waiting.done, undefined);
});

Deno.test("lazy producer: a failed connection is not kept; the next send connects again", async () => {
  const sent: OutgoingRecord[][] = [];
  let connects = 0;
  let kafkaUp = false;
  const kafka = {
    ensureTopics: () => Promise.resolve(),
    producer(): Promise<Producer> {
      connects++;
      if (!kafkaUp) {
        return Promise.reject(
          new UnavailableError("Kafka is not reachable: x", { cause: refused() }),
        );
      }
      return Promise.resolve({
        send: (records: OutgoingRecord[]) => {
          if (!kafkaUp) return Promise.reject(refused());
          sent.push(records);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      });
    },
  };
  const producer = lazyProducer(kafka);
  const record = [{ topic: "T", key: "k", value: "{}" }];
  await assert.rejects(producer.send(record), UnavailableError);
  kafkaUp = true;
  await producer.send(record);
  await producer.send(record);
  assert.equal(connects, 2, "connects again after the outage, then reuses the connection");
  kafkaUp = false; // a later outage during a send
  await assert.rejects(producer.send(record), UnavailableError);
  kafkaUp = true;
  await producer.send(record);
  assert.equal(connects, 3);
  assert.equal(sent.length, 3);
});

Deno.test("supervise: a storage failure ends the part, unless a pause is given; then it restarts", async () => {
  const diskFull = () =>
    new StorageError("Cannot append to /lake/X.jsonl: No space left on device");
  const once = part();
  const plain = supervise("lake consumer", () => once.p, ctx());
  once.fail(diskFull());
  await assert.rejects(plain.done, StorageError);

  const made: ReturnType<typeof part>[] = [];
  const patient = supervise(
    "lake consumer",
    () => {
      const next = part();
      made.push(next);
      return next.p;
    },
    ctx(),
    { retryStorageAfterMs: 10 },
  );
  while (made.length < 1) await new Promise((r) => setTimeout(r, 5));
  made[0].fail(diskFull());
  while (made.length < 2) await new Promise((r) => setTimeout(r, 5));
  assert.equal(made[0].p.stops(), 1, "the failed instance is stopped before the next starts");
  made[1].end("caught up");
  assert.equal(await patient.done, "caught up");
});
