/** `consume [--once] [--feeds A,B]`: Kafka feed topics → the data lake. */
import { feedList, selectFeeds } from "../config/config.ts";
import { UsageError } from "../core/errors.ts";
import { closeWithin, connectKafka } from "../kafka/connect.ts";
import { KafkaHealth, outagePolicy } from "../kafka/retry.ts";
import { supervise } from "../kafka/supervise.ts";
import { type LakeStats, startLakeConsumer } from "../lake/consumer.ts";
import type { Command } from "./command.ts";

export const consumeCommand: Command = {
  summary: "consume the feed topics into the data lake (--once: until caught up)",
  usage: "consume [--once] [--feeds A,B]",
  options: { once: { type: "boolean" }, feeds: { type: "string" } },
  async run(ctx) {
    const names = typeof ctx.values.feeds === "string" ? feedList(ctx.values.feeds) : undefined;
    if (names?.length === 0) throw new UsageError("--feeds: give at least one feed name");
    const feeds = selectFeeds(
      ctx.config,
      names,
      (unknown) => `--feeds: unknown feed${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`,
    );
    const health = new KafkaHealth();
    const kafka = connectKafka(ctx.config, ctx.log, health);
    const once = ctx.values.once === true;
    try {
      // Waits out Kafka outages: forever, or with --once a bounded time, then one error line.
      const consumer = supervise("lake consumer", () =>
        startLakeConsumer({
          config: ctx.config,
          kafka,
          log: ctx.log,
          feeds,
          once,
          signal: ctx.signal,
          progress: true,
          health,
        }), {
        policy: outagePolicy(once, ctx.config),
        log: ctx.log.child({ component: "kafka" }),
        brokers: ctx.config.kafka.brokers,
        health,
        signal: ctx.signal,
      });
      const stats = (await consumer.done as LakeStats | undefined) ?? {};
      ctx.print(
        `${"feed".padEnd(32)} ${"written".padStart(10)} ${"rejected".padStart(10)} ${
          "ignored".padStart(10)
        }`,
      );
      for (const [feed, c] of Object.entries(stats)) {
        ctx.print(
          `${feed.padEnd(32)} ${String(c.written).padStart(10)} ${
            String(c.rejected).padStart(10)
          } ${String(c.ignored).padStart(10)}`,
        );
      }
      return 0;
    } finally {
      await closeWithin(kafka);
    }
  },
};
