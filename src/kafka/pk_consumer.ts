/**
 * `consume` on @platformatic/kafka: the library's Consumer keeps the group membership (join, sync,
 * heartbeats on timers, so a slow batch never stops them) and answers fetches; this module runs
 * the fetch loop itself so that it hands out whole per-partition batches in offset order, one
 * partition's batches never overlapping, commits after each, and drains before every rebalance:
 * the library asks for our protocol metadata right before it sends JoinGroup, and we answer only
 * once the batches in hand have finished and `onRevoked` has run (so no other member can read a
 * partition while we still work on it).
 */
import { Buffer } from "node:buffer";
import {
  Admin,
  ConnectionPool,
  Consumer,
  FetchIsolationLevels,
  findErrorBy,
  type GroupAssignment,
} from "@platformatic/kafka";
import type { KafkaSettings } from "../config/kafka.ts";
import type { Logger } from "../core/log.ts";
import type {
  ConsumeOptions,
  ConsumerHandle,
  GroupGeneration,
  RecordBatch,
  TopicPartition,
} from "./client.ts";
import { assignBySubscription } from "./pk_assign.ts";
import { baseOptions } from "./pk_options.ts";
import { DEFAULT_PARTITION_BYTES, Fetcher } from "./pk_fetch.ts";
import { startPositions } from "./pk_positions.ts";
import { type FetchedPartition, toBatch } from "./pk_records.ts";
import { CatchUp } from "./pk_catch_up.ts";
import { listTopicNames } from "./pk_topics.ts";
import { KafkaTopicMissingError } from "./errors.ts";
import { kafkaError, kafkaFailure } from "./pk_errors.ts";
import type { KafkaHealth } from "./retry.ts";

/**
 * Generous: a stalled event loop or a long drain before a rebalance must not get us evicted.
 * KAFKA_SESSION_TIMEOUT_MS replaces it (a faster hand-over after a crash, for a shorter grace).
 */
const SESSION_TIMEOUT_MS = 30_000;
const REBALANCE_TIMEOUT_MS = 60_000;
/** At most a third of the session, as Kafka advises, so one late heartbeat is no eviction. */
const HEARTBEAT_MS = 3000;
/** How long the broker may hold an empty fetch answer: all partitions asked for, or some. */
const LONG_POLL_MS = 500;
const SHORT_POLL_MS = 10;
/** Batches fetched ahead per partition while one is being handled. */
const PREFETCH = 1;

interface Owned {
  topic: string;
  partition: number;
  fetchOffset: bigint;
  queue: RecordBatch[];
  busy: boolean;
}

export interface ConsumerDeps {
  settings: KafkaSettings;
  log: Logger;
  health?: KafkaHealth;
}

export async function startGroupConsumer(
  deps: ConsumerDeps,
  options: ConsumeOptions,
): Promise<ConsumerHandle> {
  const consumer = new GroupConsumer(deps, options);
  await consumer.start();
  return { done: consumer.done, stop: () => consumer.stop() };
}

class GroupConsumer {
  done: Promise<void>;
  #deps: ConsumerDeps;
  #options: ConsumeOptions;
  #client: Consumer;
  /** Topic checks, and the commits of a standalone (`assignAll`) consumer. */
  #admin?: Admin;
  #pool: ConnectionPool;
  #fetcher: Fetcher;
  #settle!: { resolve: () => void; reject: (e: unknown) => void };
  #owned = new Map<string, Owned>();
  #generation: GroupGeneration;
  /** Bumped at every rebalance: fetch answers of an older assignment are dropped. */
  #epoch = 0;
  #rebalancing = true;
  #assigning: Promise<void> = Promise.resolve();
  #handlers = new Set<Promise<void>>();
  #commits = new Set<Promise<void>>();
  #running = 0;
  #round = 0;
  #stopping?: Promise<void>;
  #failed = false;
  #wake?: () => void;
  /** The last round asked for some partitions only, and none had anything new. */
  #idle = false;
  #catchUp?: CatchUp;

  constructor(deps: ConsumerDeps, options: ConsumeOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#generation = { groupId: options.groupId, memberId: "", generationId: -1 };
    this.done = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    const base = baseOptions(deps.settings, "consumer");
    const sessionTimeout = deps.settings.sessionTimeoutMs ?? SESSION_TIMEOUT_MS;
    this.#client = new Consumer({
      ...base,
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: Math.min(HEARTBEAT_MS, Math.floor(sessionTimeout / 3)),
      autocommit: false,
      isolationLevel: options.readCommitted === false
        ? FetchIsolationLevels.READ_UNCOMMITTED
        : FetchIsolationLevels.READ_COMMITTED,
      minBytes: 1,
      // One partition's worth per answer: its buffers stay small (peak memory), and no partition's
      // batch waits for the decoding of all the others'.
      maxBytes: options.maxBytesPerPartition ?? DEFAULT_PARTITION_BYTES,
      maxWaitTime: 500,
      partitionAssigner: assignBySubscription,
      protocolsMetadata: () => this.#beforeJoin(),
    });
    // Fetches use connections of their own: a long poll must not delay heartbeats and commits.
    this.#pool = new ConnectionPool(`${base.clientId}-fetch`, base);
    this.#fetcher = new Fetcher(this.#client, this.#pool, options, deps.log);
    this.#client.on("consumer:group:join", (payload) => {
      this.#generation = {
        groupId: options.groupId,
        memberId: payload.memberId,
        generationId: payload.generationId ?? -1,
      };
      this.#assigning = this.#assigned(payload.assignments ?? [], ++this.#epoch);
    });
    // A rejoin the library could not complete: the part restarts under the supervisor.
    this.#client.on("error", (error: Error) => this.#fail(error));
  }

  async start(): Promise<void> {
    const { options } = this;
    try {
      // The library reports a missing topic without a code: look for it ourselves.
      const existing = new Set(await listTopicNames(this.#adminClient));
      const missing = options.topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) throw new KafkaTopicMissingError(missing);
      if (options.stopWhenCaughtUp) {
        this.#catchUp = await CatchUp.measure(this.#client, options);
      }
      this.#client.topics.trackAll(...options.topics);
      if (options.assignAll) await this.#assignAll();
      else await this.#client.joinGroup({});
    } catch (error) {
      await this.#client.close(true).catch(() => {});
      await this.#pool.close().catch(() => {});
      await this.#admin?.close().catch(() => {});
      throw await kafkaFailure(error, this.#deps.settings);
    }
    if (this.#catchUp?.caughtUp()) void this.stop();
    void this.#fetchLoop();
  }

  get #adminClient(): Admin {
    return this.#admin ??= new Admin(baseOptions(this.#deps.settings, "consumer-admin"));
  }

  get options(): ConsumeOptions {
    return this.#options;
  }

  /** Standalone: every partition of the topics, no group membership (`assignAll`). */
  async #assignAll(): Promise<void> {
    const metadata = await this.#client.metadata({ topics: this.#options.topics });
    const assignments = this.#options.topics.map((topic) => ({
      topic,
      partitions: Array.from(
        { length: metadata.topics.get(topic)?.partitionsCount ?? 0 },
        (_, i) => i,
      ),
    }));
    await this.#assigned(assignments, ++this.#epoch, true);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#wake?.();
      await Promise.allSettled([...this.#handlers]);
      await Promise.allSettled([...this.#commits]);
      if (!this.#options.assignAll) {
        await new Promise<void>((resolve) => this.#client.leaveGroup(false, () => resolve()));
      }
      await this.#client.close().catch(() => {});
      await this.#pool.close().catch(() => {});
      await this.#admin?.close().catch(() => {});
      this.#settle.resolve();
    })();
    return this.#stopping.then(() => this.done).catch(() => {});
  }

  #fail(error: unknown): void {
    if (this.#failed || this.#stopping) return;
    this.#failed = true;
    this.#wake?.();
    this.#settle.reject(kafkaError(error, this.#deps.settings));
    setTimeout(() => {
      void this.#client.close(true).catch(() => {});
      void this.#pool.close().catch(() => {});
      void this.#admin?.close().catch(() => {});
    }, 0);
  }

  /** Right before JoinGroup: stop handing out batches, let those in hand finish, revoke. */
  async #beforeJoin(): Promise<Buffer> {
    this.#rebalancing = true;
    this.#epoch++;
    this.#deps.log.debug("kafka.rebalance", {
      group: this.#options.groupId,
      batchesInHand: this.#handlers.size,
    });
    await this.#assigning.catch(() => {});
    for (const owned of this.#owned.values()) owned.queue.length = 0;
    await Promise.allSettled([...this.#handlers]);
    const revoked = [...this.#owned.values()].map(({ topic, partition }) => ({ topic, partition }));
    this.#owned.clear();
    if (revoked.length > 0 && this.#options.onRevoked && !this.#failed) {
      try {
        await this.#options.onRevoked(revoked);
      } catch (error) {
        this.#fail(error);
      }
    }
    return Buffer.alloc(0);
  }

  /** After SyncGroup: positions of the new partitions, `onAssigned`, then fetching resumes. */
  async #assigned(assignments: GroupAssignment[], epoch: number, rethrow = false): Promise<void> {
    const wanted = new Set(this.#options.topics);
    const mine = assignments.filter((a) => wanted.has(a.topic) && a.partitions.length > 0);
    try {
      const positions = await startPositions(
        this.#client,
        {
          admin: this.#adminClient,
          groupId: this.#options.groupId,
          stable: this.#options.readCommitted !== false,
          stopped: () => this.#stopping !== undefined || this.#failed,
          log: this.#deps.log,
        },
        mine,
        this.#options.fromBeginning,
      );
      if (epoch !== this.#epoch) return;
      const partitions: TopicPartition[] = mine.flatMap(({ topic, partitions }) =>
        partitions.map((partition) => ({ topic, partition }))
      );
      if (this.#options.onAssigned) await this.#options.onAssigned(partitions);
      if (epoch !== this.#epoch) return;
      for (const { topic, partition } of partitions) {
        this.#owned.set(`${topic}:${partition}`, {
          topic,
          partition,
          fetchOffset: positions.get(`${topic}:${partition}`)!,
          queue: [],
          busy: false,
        });
      }
      this.#rebalancing = false;
      this.#wake?.();
    } catch (error) {
      if (rethrow) throw error;
      this.#fail(error);
    }
  }

  async #fetchLoop(): Promise<void> {
    while (!this.#stopping && !this.#failed) {
      const owned = [...this.#owned.values()];
      // A new first partition each round: an answer is one partition's worth, filled in order.
      const first = owned.length > 0 ? this.#round++ % owned.length : 0;
      const wanted = this.#rebalancing
        ? []
        : [...owned.slice(first), ...owned.slice(0, first)].filter((o) =>
          o.queue.length < PREFETCH
        );
      const partial = wanted.length < owned.length;
      if (wanted.length === 0 || (partial && this.#idle)) {
        // Nothing to ask for; or only partitions that had nothing new a moment ago, while the
        // others wait for their batch in hand: wait for it to finish (the next round asks for
        // all, with a long poll), at most a long poll's time, rather than polling every few
        // milliseconds (hundreds of empty answers a second: CPU and garbage).
        await this.#sleep(wanted.length === 0 ? undefined : LONG_POLL_MS);
        this.#idle = false;
        continue;
      }
      try {
        this.#idle = !(await this.#fetchOnce(wanted, this.#epoch)) && partial;
        this.#deps.health?.up();
      } catch (error) {
        if (this.#stopping) return;
        this.#fail(error);
        return;
      }
    }
  }

  /** Until a batch finishes, the assignment changes or stop() (see #wake), or `ms` passes. */
  #sleep(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.#wake = undefined));
  }

  /**
   * One round of fetches; answers of an older assignment (a rebalance since) are dropped. True
   * when some partition's answer moved on (new records, or markers).
   */
  async #fetchOnce(wanted: Owned[], epoch: number): Promise<boolean> {
    // A long poll only when no partition waits outside it (see Fetcher.fetch).
    const maxWaitMs = wanted.length === this.#owned.size ? LONG_POLL_MS : SHORT_POLL_MS;
    let moved = false;
    await this.#fetcher.fetch(wanted, maxWaitMs, (owned, answer) => {
      if (epoch !== this.#epoch || this.#stopping) return;
      if (this.#owned.get(`${owned.topic}:${owned.partition}`) !== owned) return;
      if (this.#accept(owned, answer)) moved = true;
      this.#schedule();
    });
    return moved;
  }

  /** The records of one partition's answer as a batch in its queue; false when nothing new. */
  #accept(owned: Owned, answer: FetchedPartition): boolean {
    const batch = toBatch(owned, owned.fetchOffset, answer, this.#generation);
    if (!batch) return false;
    owned.fetchOffset = BigInt(batch.nextOffset);
    owned.queue.push(batch);
    return true;
  }

  /** Starts the next batch of every idle partition, up to `partitionsConcurrently` at once. */
  #schedule(): void {
    const limit = this.#options.partitionsConcurrently ?? 1;
    for (const owned of this.#owned.values()) {
      if (this.#running >= limit || this.#rebalancing || this.#stopping || this.#failed) return;
      if (owned.busy || owned.queue.length === 0) continue;
      this.#handle(owned, owned.queue.shift()!);
    }
  }

  #handle(owned: Owned, batch: RecordBatch): void {
    owned.busy = true;
    this.#running++;
    // Also a batch without records (all aborted, or only markers): a caller that commits in its
    // own transactions must commit its nextOffset, or it stays behind an aborted tail.
    const handler = this.#options.onBatch(batch);
    this.#handlers.add(handler);
    handler.then(
      () => this.#afterBatch(owned, batch),
      (error) => this.#fail(error),
    ).finally(() => {
      this.#handlers.delete(handler);
      this.#running--;
      owned.busy = false;
      this.#wake?.();
      this.#schedule();
    });
  }

  /** Commits the batch (unless the caller commits in its transactions) and checks catch-up. */
  async #afterBatch(owned: Owned, batch: RecordBatch): Promise<void> {
    if (this.#options.commit ?? true) {
      const offset = BigInt(batch.nextOffset);
      const commit = (this.#options.assignAll
        ? this.#adminClient.alterConsumerGroupOffsets({
          groupId: this.#options.groupId,
          topics: [{
            name: batch.topic,
            partitionOffsets: [{ partition: batch.partition, offset }],
          }],
        })
        : this.#client.commit({
          offsets: [{ topic: batch.topic, partition: batch.partition, offset, leaderEpoch: -1 }],
        })).catch((error) => {
          // The group moved on (we were evicted, or it rebalanced): the partition's next owner
          // reads the batch again from the last commit, and the lake's checkpoint skips it.
          if (findErrorBy(error, "needsRejoin", true)) {
            this.#deps.log.debug("kafka.commit_refused", { topic: owned.topic, error });
            return;
          }
          throw error;
        });
      this.#commits.add(commit);
      try {
        await commit;
      } catch (error) {
        this.#fail(error);
        return;
      } finally {
        this.#commits.delete(commit);
      }
    }
    if (this.#catchUp?.advance(batch.topic, batch.partition, BigInt(batch.nextOffset))) {
      void this.stop();
    }
  }
}
