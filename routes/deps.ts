/** What the API needs from the running service, passed to createApp (nothing global). */
import type { Config } from "../src/config/config.ts";
import type { Logger } from "../src/core/log.ts";
import type { Account } from "../src/governance/accounts.ts";
import type { Permission } from "../src/governance/permissions.ts";
import type { KafkaClient } from "../src/kafka/client.ts";
import type { JobRunner } from "../src/scheduler/runner.ts";
import type { FlowHistory } from "../src/service/history.ts";
import type { ServiceStats } from "../src/service/stats.ts";
import type { Warehouse } from "../src/warehouse/engine.ts";

export interface AppDeps {
  config: Config;
  /** The API's warehouse, either engine (governance schema ensured by the caller). */
  warehouse: Warehouse;
  log: Logger;
  kafka: KafkaClient;
  runner: JobRunner;
  /** Counters of the running consumer, processor and loads (for /metrics and /status). */
  stats?: ServiceStats;
  /** The last hour of flow, sampled by serve (for GET /status/history and the dashboard). */
  history?: FlowHistory;
  /** How long /status waits for Kafka before showing it down (default 2000 ms). */
  kafkaTimeoutMs?: number;
}

/** Hono context variables set by the auth middleware. */
export interface AppEnv {
  Variables: {
    account: Account | null;
    permissions: Permission[];
  };
}
