/**
 * The names of the cluster's topics. The library lists them with one metadata request for every
 * topic, and fails the whole listing when any partition anywhere has no leader: a topic with one
 * replica on a broker that is down (someone else's, or a test script's) would stop every part of
 * ours that lists topics for as long as that broker stays down, though our own topics have
 * leaders again within seconds. Such an answer still names every topic, with an error code per
 * topic: a topic that answered with only partition errors exists, and it is all we ask.
 */
import type { Admin } from "@platformatic/kafka";
import { errorTree } from "./errors.ts";

interface ListedTopic {
  name: string | null;
  errorCode: number;
  isInternal?: boolean;
}

/** The metadata answer a failed listing carries (the library's ResponseError `response`). */
function listingAnswer(error: unknown): ListedTopic[] | undefined {
  let found: ListedTopic[] | undefined;
  for (const e of errorTree(error)) {
    const response = (e as { response?: { topics?: unknown } }).response;
    if (Array.isArray(response?.topics)) found = response.topics as ListedTopic[];
  }
  return found; // the last attempt's
}

/** Partition-level errors only (`/topics/i/partitions/j`): the topics themselves answered. */
function onlyPartitionErrors(error: unknown): boolean {
  const paths = errorTree(error).map((e) => (e as { path?: unknown }).path)
    .filter((p): p is string => typeof p === "string");
  return paths.length > 0 && paths.every((p) => /^\/topics\/\d+\/partitions\/\d+$/.test(p));
}

export async function listTopicNames(admin: Pick<Admin, "listTopics">): Promise<string[]> {
  try {
    return await admin.listTopics();
  } catch (error) {
    const answer = listingAnswer(error);
    if (!answer || !onlyPartitionErrors(error)) throw error;
    return answer.filter((t) => t.errorCode === 0 && !t.isInternal && t.name !== null)
      .map((t) => t.name!).sort();
  }
}
