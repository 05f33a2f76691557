import { createProgress } from "../core/progress.ts";
import { closeWithin, connectKafka } from "../kafka/connect.ts";
import { KafkaHealth, outagePolicy } from "../kafka/retry.ts";
import { supervise } from "../kafka/supervise.ts";
import { type ProcessorStats, startProcessor } from "../processor/processor.ts";
import type { Command } from "./command.ts";

export const processCommand: Command = {
  summary: "run the stream processor: raw transactions → every derived feed (exactly once)",
  usage: "process [--once]",
  options: { once: { type: "boolean" } },
  run: async ({ config, log, values, print, signal }) => {
    const once = values.once === true;
    const health = new KafkaHealth();
    const kafka = connectKafka(config, log, health);
    try {
      // Waits out Kafka outages: forever, or with --once a bounded time, then one error line.
      const processor = supervise(
        "processor",
        () => startProcessor({ config, kafka, log, once, signal }),
        {
          policy: outagePolicy(once, config),
          log: log.child({ component: "kafka" }),
          brokers: config.kafka.brokers,
          health,
          signal,
        },
      );
      const progress = createProgress("process", undefined, "records");
      const timer = setInterval(() => {
        const s = processor.current()?.stats();
        if (s) progress.update(s.recordsIn, `rejected ${s.rejected}`);
      }, 200);
      try {
        const stats = await processor.done as ProcessorStats | undefined;
        progress.finish();
        if (!stats) return; // stopped while waiting for Kafka
        const out = Object.values(stats.out).reduce((a, b) => a + b, 0);
        const seconds = Math.max(stats.processingMs / 1000, 0.001);
        print(
          `processed ${stats.recordsIn} raw transactions: ${out} records out, ` +
            `${stats.rejected} quarantined to ${config.rejectedTopic} ` +
            `(${seconds.toFixed(2)} s: ${Math.round(stats.recordsIn / seconds)} records/s in, ` +
            `${Math.round(out / seconds)} records/s out)`,
        );
      } finally {
        clearInterval(timer);
        progress.finish();
      }
    } finally {
      await closeWithin(kafka);
    }
  },
};
