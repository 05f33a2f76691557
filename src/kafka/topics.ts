/** How the product's topics are laid out: one place, so the processor and the lake agree. */
import type { Feed } from "../config/feeds.ts";
import type { TopicSpec } from "./client.ts";

/** Partitions of stream topics (raw and derived): enough for parallel consumers on 2 cores. */
export const STREAM_PARTITIONS = 3;

/** The raw transactions topic (a plain stream, not a feed): laid out like stream feeds. */
export function rawTopicSpec(topic: string): TopicSpec {
  return { topic, partitions: STREAM_PARTITIONS };
}

/** Table feeds are keyed changelogs (compacted); streams are plain logs; static data is small. */
export function topicSpecForFeed(feed: Feed): TopicSpec {
  if (feed.kind === "stream") return { topic: feed.name, partitions: STREAM_PARTITIONS };
  if (feed.kind === "table") {
    return { topic: feed.name, partitions: STREAM_PARTITIONS, compact: true };
  }
  return { topic: feed.name, partitions: 1, compact: true };
}
