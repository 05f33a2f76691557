/**
 * The topics the processor reads and writes, by role. Names come from the config (raw and
 * rejected topics, feed names with PROCESSOR_TOPIC_PREFIX); tests and benchmarks may rename any of
 * them to run in isolation. Partition counts are laid out by layout.ts.
 */
import { type Config, findFeed } from "../config/config.ts";
import type { Feed } from "../config/feeds.ts";
import { STATUSES } from "../config/settings.ts";
import { ConfigError } from "../core/errors.ts";
import type { TopicSpec } from "../kafka/client.ts";
import { rawTopicSpec, STREAM_PARTITIONS, topicSpecForFeed } from "../kafka/topics.ts";
import { statusFeedName } from "./transform.ts";

/** The feeds the processor writes (or reads, for CURRENCY_RATES), by role. */
export const PROCESSOR_FEEDS = {
  secure: "TRANSACTIONS_SECURE",
  usd: "TRANSACTIONS_USD",
  blacklisted: "TRANSACTIONS_BLACKLISTED",
  userSpending: "USER_SPENDING_BY_TYPE",
  windows: "SPEND_LAST_FIVE_MIN_BY_TYPE",
  users: "USERS",
  rates: "CURRENCY_RATES",
} as const;

export type FeedRole = keyof typeof PROCESSOR_FEEDS;

export interface ProcessorTopics extends Record<FeedRole, string> {
  raw: string;
  rejected: string;
  /** Status (lower case, as in raw records) → topic of TRANSACTIONS_<STATUS>. */
  byStatus: Record<string, string>;
}

/** The feed declarations behind every role: keys, kinds and partition counts come from them. */
export interface ProcessorFeeds extends Record<FeedRole, Feed> {
  byStatus: Record<string, Feed>;
}

export function processorFeeds(config: Pick<Config, "feeds">): ProcessorFeeds {
  const need = (name: string): Feed => {
    const feed = findFeed(config, name);
    if (!feed) {
      throw new ConfigError(`feed ${name} is not declared, but the processor writes it`);
    }
    return feed;
  };
  const roles = Object.fromEntries(
    Object.entries(PROCESSOR_FEEDS).map(([role, name]) => [role, need(name)]),
  ) as Record<FeedRole, Feed>;
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, need(statusFeedName(s))]));
  return { ...roles, byStatus };
}

export function processorTopics(
  config: Pick<Config, "rawTopic" | "rejectedTopic" | "processor">,
  overrides: Partial<ProcessorTopics> = {},
): ProcessorTopics {
  const prefix = config.processor.topicPrefix;
  const feeds = Object.fromEntries(
    Object.entries(PROCESSOR_FEEDS).map(([role, name]) => [role, prefix + name]),
  ) as Record<FeedRole, string>;
  return {
    raw: config.rawTopic,
    rejected: config.rejectedTopic,
    ...feeds,
    byStatus: Object.fromEntries(STATUSES.map((s) => [s, prefix + statusFeedName(s)])),
    ...overrides,
  };
}

/**
 * The internal topic between the two stages (windows.ts): window deltas keyed and partitioned by
 * TRANSACTION_TYPE. Named after the processor's consumer group, as Kafka Streams names its
 * `<application.id>-...-repartition` topics: each group has its own.
 */
export function repartitionTopic(processorGroupId: string): string {
  return `${processorGroupId}-windows-repartition`;
}

/** Every topic the processor touches, laid out as src/kafka/topics.ts says. */
export function processorTopicSpecs(feeds: ProcessorFeeds, topics: ProcessorTopics): TopicSpec[] {
  const specs: TopicSpec[] = [
    rawTopicSpec(topics.raw),
    { topic: topics.rejected, partitions: STREAM_PARTITIONS },
  ];
  for (const role of Object.keys(PROCESSOR_FEEDS) as FeedRole[]) {
    specs.push({ ...topicSpecForFeed(feeds[role]), topic: topics[role] });
  }
  for (const status of STATUSES) {
    specs.push({ ...topicSpecForFeed(feeds.byStatus[status]), topic: topics.byStatus[status] });
  }
  return specs;
}
