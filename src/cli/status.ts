import { connectKafka } from "../kafka/connect.ts";
import { collectStatus } from "../service/status.ts";
import { formatStatus } from "../service/status_text.ts";
import { openWarehouse } from "../warehouse/db.ts";
import type { Command } from "./command.ts";

const delay = (ms: number) =>
  new Promise<void>((resolve) => Deno.unrefTimer(setTimeout(resolve, ms) as unknown as number));

export const statusCommand: Command = {
  summary: "show Kafka, lag, job runs, lake size and warehouse rows (--json for scripts)",
  usage: "status [--json]",
  options: { json: { type: "boolean" } },
  async run(ctx) {
    const kafka = connectKafka(ctx.config, ctx.log);
    const db = openWarehouse(ctx.config.warehousePath);
    try {
      const status = await collectStatus({ config: ctx.config, db, kafka });
      if (ctx.values.json) ctx.print(JSON.stringify(status, null, 2));
      else formatStatus(status).forEach((line) => ctx.print(line));
    } finally {
      // A broker that is down keeps kafkajs retrying; do not wait for that to print and exit.
      await Promise.race([kafka.close().catch(() => {}), delay(1000)]);
      db.close();
    }
  },
};
