/**
 * Issue 16 item 3: serve once exited on "Uncaught (in promise) AggregateError: fetch failed"
 * right after a broker was killed: a consumer of the processor failed while nobody awaited its
 * `done`. Whichever of its parts fails, and whenever, the processor's own `done` rejects with
 * that error (the supervisor restarts it) and nothing is left unhandled (Deno's test runner
 * fails a test on an unhandled rejection, as Deno ends a process). On the in-memory broker of
 * tests/processor/fake_kafka.ts.
 */
import assert from "node:assert/strict";
import type { ConsumeOptions, ConsumerHandle } from "../../src/kafka/client.ts";
import { Logger } from "../../src/core/log.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { CURRENCY_RATES } from "../../src/producer/rates.ts";
import { testConfig } from "../helpers/env.ts";
import { FakeBroker, FakeKafka } from "../processor/fake_kafka.ts";
import { isolatedTopics } from "../processor/fixtures.ts";

/** A broker fault as the client reports it: a socket error inside an aggregate. */
function brokerFault(): Error {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:19702"), {
    code: "ECONNREFUSED",
  });
  return new AggregateError([refused], "fetch failed 3 times.");
}

/** FakeKafka whose consumer of the group `failing` picks fails `afterMs` after it started. */
class FailingKafka extends FakeKafka {
  constructor(
    broker: FakeBroker,
    readonly failing: (groupId: string) => boolean,
    readonly fault: Error,
    readonly afterMs: number,
    readonly slowJoinMs = 0,
  ) {
    super(broker);
  }

  override async consume(options: ConsumeOptions): Promise<ConsumerHandle> {
    if (!this.failing(options.groupId)) {
      // Other members take a while to join: a failure meanwhile must not go unnoticed.
      if (this.slowJoinMs > 0) await new Promise((r) => setTimeout(r, this.slowJoinMs));
      return await super.consume(options);
    }
    const handle = await super.consume(options);
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.fault), this.afterMs);
      handle.done.then(() => {
        clearTimeout(timer);
        resolve();
      }, reject);
    });
    return { done, stop: handle.stop };
  }
}

async function run(
  failing: (groupId: string) => boolean,
  afterMs: number,
  slowJoinMs = 0,
): Promise<unknown> {
  const broker = new FakeBroker();
  const fault = brokerFault();
  const kafka = new FailingKafka(broker, failing, fault, afterMs, slowJoinMs);
  const topics = isolatedTopics();
  await kafka.ensureTopics([{ topic: topics.raw, partitions: 3 }, { topic: topics.rates }]);
  await (await kafka.producer()).send(
    Object.entries(CURRENCY_RATES).map(([currency, rate]) => ({
      topic: topics.rates,
      key: currency,
      value: JSON.stringify({ CURRENCY: currency, RATE_TO_USD: rate }),
    })),
  );
  const stateDir = await Deno.makeTempDir({ prefix: "processor-parts-" });
  const group = `g${crypto.randomUUID().slice(0, 8)}`;
  const config = await testConfig({
    env: { KAFKA_GROUP_ID: group, ANONYMIZATION_KEY: "unit-key", PROCESSOR_STATE_DIR: stateDir },
  });
  const log = new Logger({ level: "error", sink: { write: () => {} } });
  const processor = startProcessor({ config, kafka, log, topics });
  try {
    // Bounded: a processor that never notices the failure runs on until this gives up.
    const outcome = await Promise.race([
      processor.done.then(() => "resolved", (error) => error),
      new Promise((r) => setTimeout(() => r("still running after 20 s"), 20_000)),
    ]);
    assert.equal(outcome, fault, "the processor fails with the part's error");
    return outcome;
  } finally {
    await processor.stop();
    await processor.done.catch(() => {});
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
}

Deno.test("processor: its currency rates consumer failing ends its run, not the process", async () => {
  await run((group) => group.includes(".rates."), 50);
});

Deno.test("processor: its currency rates consumer failing at once ends its run", async () => {
  await run((group) => group.includes(".rates."), 0);
});

Deno.test("processor: stage two failing while stage one still joins ends its run", async () => {
  await run((group) => group.endsWith(".processor.windows"), 0, 300);
});

Deno.test("processor: stage one failing once running ends its run", async () => {
  await run((group) => /\.processor$/.test(group), 100);
});
