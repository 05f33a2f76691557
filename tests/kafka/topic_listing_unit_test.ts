/**
 * Issue 16 item 3: with one broker of three killed, serve's lake and processor stalled for as long
 * as it stayed down: the library fails a whole topic listing when any partition in the cluster has
 * no leader (here a one-replica topic on the killed broker), and the product lists topics before
 * it consumes, creates topics or snapshots state. The listing (pk_topics.ts) takes the names from
 * such an answer; other failures still fail it. The library's own error classes, as its Admin
 * throws them (seen against the three-node cluster of scripts/kafka.sh).
 */
import assert from "node:assert/strict";
import { MultipleErrors, NetworkError, ResponseError } from "@platformatic/kafka";
import { listTopicNames } from "../../src/kafka/pk_topics.ts";

const METADATA = 3;
const LEADER_NOT_AVAILABLE = 5;
const TOPIC_AUTHORIZATION_FAILED = 29;

function topic(name: string, errorCode = 0, partitionErrors: number[] = [0]) {
  return {
    errorCode,
    name,
    isInternal: false,
    partitions: partitionErrors.map((code, i) => ({ errorCode: code, partitionIndex: i })),
  };
}

/** What Admin.listTopics throws after its attempts, each answered like `response`. */
function failedListing(
  errors: Record<string, [number, null]>,
  topics: ReturnType<typeof topic>[],
  attempts = 3,
): Error {
  const answers = Array.from(
    { length: attempts },
    () => new ResponseError(METADATA, 12, errors, { topics }),
  );
  return new MultipleErrors("Listing topics failed.", [
    new MultipleErrors(`metadata failed ${attempts} times.`, answers),
  ]);
}

const admin = (fail: () => Error) => ({ listTopics: () => Promise.reject(fail()) });

Deno.test("topic listing: partitions without a leader elsewhere do not hide the topics", async () => {
  const topics = [
    topic("raw", 0, [0, 0, 0]),
    topic("_one_replica_on_a_dead_broker", 0, [LEADER_NOT_AVAILABLE]),
    topic("TRANSACTIONS_SECURE", 0, [0, LEADER_NOT_AVAILABLE, 0]),
    { ...topic("__consumer_offsets"), isInternal: true },
  ];
  const errors: Record<string, [number, null]> = {
    "/topics/1/partitions/0": [LEADER_NOT_AVAILABLE, null],
    "/topics/2/partitions/1": [LEADER_NOT_AVAILABLE, null],
  };
  assert.deepEqual(await listTopicNames(admin(() => failedListing(errors, topics))), [
    "TRANSACTIONS_SECURE",
    "_one_replica_on_a_dead_broker",
    "raw",
  ]);
  // One attempt, or the last of several after a network error: the answer still counts.
  assert.deepEqual(
    await listTopicNames(admin(() => failedListing(errors, topics, 1))),
    ["TRANSACTIONS_SECURE", "_one_replica_on_a_dead_broker", "raw"],
  );
});

Deno.test("topic listing: a topic-level error or no answer at all still fails it", async () => {
  const denied = failedListing({ "/topics/0": [TOPIC_AUTHORIZATION_FAILED, null] }, [
    topic("secret", TOPIC_AUTHORIZATION_FAILED, []),
  ]);
  await assert.rejects(listTopicNames(admin(() => denied)), (e) => e === denied);
  const down = new MultipleErrors("Listing topics failed.", [
    new NetworkError("Connection to 127.0.0.1:19700 failed."),
  ]);
  await assert.rejects(listTopicNames(admin(() => down)), (e) => e === down);
});

Deno.test("topic listing: a healthy cluster's listing passes through", async () => {
  assert.deepEqual(
    await listTopicNames({ listTopics: () => Promise.resolve(["a", "b"]) }),
    ["a", "b"],
  );
});
