import { UsageError } from "../core/errors.ts";
import { createProgress } from "../core/progress.ts";
import { connectKafka } from "../kafka/connect.ts";
import { runProducer } from "../producer/producer.ts";
import type { Command } from "./command.ts";

export const produceCommand: Command = {
  summary: "publish CURRENCY_RATES and fake raw transactions (default 1000; with --rate and " +
    "no --count, until stopped)",
  usage: "produce [--count N] [--rate R] [--users U] [--seed S]",
  options: {
    count: { type: "string" },
    rate: { type: "string" },
    users: { type: "string" },
    seed: { type: "string" },
  },
  run: async ({ config, log, values, print, signal }) => {
    const count = numberOption(values.count, "--count");
    const progress = createProgress("produce", count, "records");
    const kafka = connectKafka(config, log);
    try {
      const result = await runProducer({
        config,
        kafka,
        log,
        count,
        rate: numberOption(values.rate, "--rate"),
        users: numberOption(values.users, "--users"),
        seed: numberOption(values.seed, "--seed"),
        signal,
        onProgress: (sent) => progress.update(sent),
      });
      progress.finish();
      print(
        `sent ${result.sent} transactions to ${config.rawTopic} and ${result.rates} currency ` +
          `rates (seed ${result.seed})`,
      );
    } finally {
      progress.finish();
      await kafka.close();
    }
  },
};

function numberOption(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`${name} must be a number, got ${JSON.stringify(value)}`);
  }
  return n;
}
