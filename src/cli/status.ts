import { closeWithin, connectKafka } from "../kafka/connect.ts";
import { ensureJobTables } from "../scheduler/store.ts";
import { collectStatus } from "../service/status.ts";
import { formatStatus } from "../service/status_text.ts";
import { openWarehouseFromConfig } from "../warehouse/open.ts";
import type { Command } from "./command.ts";

export const statusCommand: Command = {
  summary: "show Kafka, lag, job runs, lake size and warehouse rows (--json for scripts)",
  usage: "status [--json]",
  options: { json: { type: "boolean" } },
  async run(ctx) {
    const warehouse = await openWarehouseFromConfig(ctx.config);
    const kafka = connectKafka(ctx.config, ctx.log);
    try {
      await ensureJobTables(warehouse); // a warehouse that never ran a job still shows its status
      const status = await collectStatus({ config: ctx.config, warehouse, kafka });
      if (ctx.values.json) ctx.print(JSON.stringify(status, null, 2));
      else formatStatus(status).forEach((line) => ctx.print(line));
    } finally {
      await closeWithin(kafka);
      await warehouse.close();
    }
  },
};
