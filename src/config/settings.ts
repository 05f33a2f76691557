/**
 * The feeds the lake keeps and the defaults of every setting (the seed's config/settings.py).
 * Adding a feed is one declaration here (or in FEEDS_FILE): its lake folder and warehouse table
 * appear by themselves.
 */
import type { ColumnType, FeedDeclaration } from "./feeds.ts";

/** Fields of a pseudonymized transaction (TRANSACTIONS_SECURE and the feeds routed from it). */
const SECURE_COLUMNS: Record<string, ColumnType> = {
  TRANSACTION_ID: "TEXT",
  USER_ID_HASHED: "TEXT",
  USER_NAME_HASHED: "TEXT",
  EMAIL_HASHED: "TEXT",
  TRANSACTION_TYPE: "TEXT",
  AMOUNT: "REAL",
  CURRENCY: "TEXT",
  STATUS: "TEXT",
  CITY: "TEXT",
  COUNTRY: "TEXT",
  IP_MASKED: "TEXT",
  STREET_MASKED: "TEXT",
  TIMESTAMP: "TEXT",
};

const USER_FK = [{ column: "USER_ID_HASHED", references: "USERS" }];

function transactionFeed(name: string, extra: Record<string, ColumnType> = {}): FeedDeclaration {
  return {
    name,
    kind: "stream",
    primaryKey: ["TRANSACTION_ID"],
    timeField: "TIMESTAMP",
    foreignKeys: USER_FK,
    columns: { ...SECURE_COLUMNS, ...extra },
  };
}

/** Transaction statuses; each routes to a TRANSACTIONS_<STATUS> feed. */
export const STATUSES = ["completed", "failed", "pending", "processing", "cancelled"] as const;
export type Status = typeof STATUSES[number];

export const TRANSACTION_TYPES = [
  "purchase",
  "transfer",
  "withdrawal",
  "deposit",
  "refund",
] as const;

export const FEEDS: FeedDeclaration[] = [
  transactionFeed("TRANSACTIONS_SECURE"),
  transactionFeed("TRANSACTIONS_USD", { AMOUNT_USD: "REAL", TARGET_CURRENCY: "TEXT" }),
  transactionFeed("TRANSACTIONS_BLACKLISTED"),
  ...STATUSES.map((status) => transactionFeed(`TRANSACTIONS_${status.toUpperCase()}`)),
  {
    name: "USER_SPENDING_BY_TYPE",
    kind: "table",
    primaryKey: ["USER_ID_HASHED", "TRANSACTION_TYPE"],
    foreignKeys: USER_FK,
    columns: {
      USER_ID_HASHED: "TEXT",
      TRANSACTION_TYPE: "TEXT",
      TOTAL_AMOUNT_USD: "REAL",
      TRANSACTION_COUNT: "INTEGER",
      LAST_TRANSACTION_AT: "TEXT",
    },
  },
  {
    name: "SPEND_LAST_FIVE_MIN_BY_TYPE",
    kind: "table",
    primaryKey: ["TRANSACTION_TYPE"],
    columns: {
      TRANSACTION_TYPE: "TEXT",
      TOTAL_AMOUNT_USD: "REAL",
      TRANSACTION_COUNT: "INTEGER",
      WINDOW_START: "TEXT",
      WINDOW_END: "TEXT",
    },
  },
  {
    name: "USERS",
    kind: "table",
    primaryKey: ["USER_ID_HASHED"],
    columns: {
      USER_ID_HASHED: "TEXT",
      USER_NAME_HASHED: "TEXT",
      EMAIL_HASHED: "TEXT",
      CITY: "TEXT",
      COUNTRY: "TEXT",
      FIRST_SEEN_AT: "TEXT",
      LAST_SEEN_AT: "TEXT",
    },
  },
  {
    name: "CURRENCY_RATES",
    kind: "static",
    primaryKey: ["CURRENCY"],
    columns: { CURRENCY: "TEXT", RATE_TO_USD: "REAL" },
  },
];

/** Defaults of the settings read from the environment (see src/config/config.ts). */
export const DEFAULTS = {
  kafkaBrokers: "localhost:9092",
  kafkaGroupId: "data-lake",
  kafkaClientId: "data-platform",
  dataLakeDir: "./data_lake",
  warehousePath: "./data_warehouse.db",
  port: 8080,
  /** Every 10 minutes, as in the seed's scheduler. */
  pipelineSchedule: "*/10 * * * *",
  retentionDays: 30,
  /** Raw transactions: personal data, never stored in the lake. */
  rawTopic: "transactions",
  /** The processor's quarantine: raw records (personal data included), so a topic, not a file. */
  rejectedTopic: "transactions_rejected",
  /** Raw user ids and countries whose transactions go to TRANSACTIONS_BLACKLISTED. */
  blacklistUserIds: ["U00013", "U00042"],
  blacklistCountries: ["North Korea"],
  /** The processor's local state snapshots (one folder per consumer group inside). */
  processorStateDir: "./processor_state",
  processorSnapshotSeconds: 30,
  /** How long one-shot commands wait out a Kafka or Schema Registry outage. */
  onceOutageSeconds: 30,
} as const;
