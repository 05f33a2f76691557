/**
 * KafkaClient on @platformatic/kafka (pure JavaScript, so it runs inside a compiled Deno binary;
 * reads every codec; TLS and SASL; KIP-447 transactional commits). Admin calls here; consuming
 * in pk_consumer.ts, producing in pk_producer.ts.
 */
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  findErrorBy,
  ListOffsetTimestamps,
} from "@platformatic/kafka";
import type { KafkaSettings } from "../config/kafka.ts";
import type { Logger } from "../core/log.ts";
import type {
  ConsumeOptions,
  ConsumerHandle,
  KafkaClient,
  PartitionOffset,
  Producer,
  TopicSpec,
  TransactionalProducer,
} from "./client.ts";
import { startGroupConsumer } from "./pk_consumer.ts";
import { kafkaFailure } from "./pk_errors.ts";
import { baseOptions } from "./pk_options.ts";
import { openProducer, openTransactionalProducer } from "./pk_producer.ts";
import { listTopicNames } from "./pk_topics.ts";
import type { KafkaHealth } from "./retry.ts";

/** How long ensureTopics waits for new topics' partitions to get a leader. */
const LEADER_WAIT_MS = 15_000;

export class PlatformaticClient implements KafkaClient {
  #settings: KafkaSettings;
  #log: Logger;
  #health?: KafkaHealth;
  #admin?: Admin;
  /** Not a group member: lists offsets and committed offsets. */
  #offsets?: Consumer;
  #closers: (() => Promise<void>)[] = [];

  constructor(settings: KafkaSettings, log: Logger, health?: KafkaHealth) {
    this.#settings = settings;
    this.#log = log;
    this.#health = health;
  }

  get #adminClient(): Admin {
    return this.#admin ??= new Admin(baseOptions(this.#settings, "admin"));
  }

  get #offsetsClient(): Consumer {
    return this.#offsets ??= new Consumer({
      ...baseOptions(this.#settings, "offsets"),
      groupId: `${this.#settings.groupId}.offsets`,
    });
  }

  /** Runs an admin call, turning access failures into their typed errors. */
  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw await kafkaFailure(error, this.#settings);
    }
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.#call(async () => {
      const admin = this.#adminClient;
      const existing = new Set(await listTopicNames(admin));
      const missing = specs.filter((spec) => !existing.has(spec.topic));
      if (missing.length === 0) return;
      const brokers = (await admin.metadata({ topics: [] })).brokers.size;
      for (const spec of missing) {
        const replicas = spec.replicationFactor ?? this.#settings.replicationFactor ??
          Math.max(1, Math.min(3, brokers));
        const minInsync = Math.min(
          replicas,
          this.#settings.minInsyncReplicas ?? (replicas >= 3 ? 2 : 1),
        );
        const configs = [{ name: "min.insync.replicas", value: String(minInsync) }];
        if (spec.compact) configs.push({ name: "cleanup.policy", value: "compact" });
        try {
          await admin.createTopics({
            topics: [spec.topic],
            partitions: spec.partitions ?? 1,
            replicas,
            configs,
          });
        } catch (error) {
          // Another process may have created it between our list and create.
          if (!findErrorBy(error as Error, "apiId", "TOPIC_ALREADY_EXISTS")) throw error;
        }
      }
      await this.#waitForLeaders(missing.map((s) => s.topic));
      this.#log.info("kafka.topics_created", { topics: missing.map((s) => s.topic) });
    });
  }

  /** New topics serve reads and writes once each partition has a leader. */
  async #waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    while (true) {
      try {
        const metadata = await this.#adminClient.metadata({ topics, forceUpdate: true });
        const ready = topics.every((t) => {
          const topic = metadata.topics.get(t);
          return topic && topic.partitions.length === topic.partitionsCount &&
            topic.partitions.every((p) => p && p.leader >= 0);
        });
        if (ready) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  listTopics(): Promise<string[]> {
    return this.#call(() => listTopicNames(this.#adminClient));
  }

  topicIds(topics: string[]): Promise<Map<string, string>> {
    return this.#call(async () => {
      const existing = new Set(await listTopicNames(this.#adminClient));
      const wanted = topics.filter((t) => existing.has(t));
      const out = new Map<string, string>();
      if (wanted.length === 0) return out;
      const metadata = await this.#adminClient.metadata({ topics: wanted, forceUpdate: true });
      for (const topic of wanted) {
        const id = metadata.topics.get(topic)?.id;
        if (id) out.set(topic, id);
      }
      return out;
    });
  }

  endOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.#call(async () => {
      const ends = await this.#offsetsClient.listOffsets({
        topics: [topic],
        timestamp: ListOffsetTimestamps.LATEST,
        isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
      });
      return (ends.get(topic) ?? []).map((offset, partition) => ({
        topic,
        partition,
        offset: offset.toString(),
      }));
    });
  }

  committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    return this.#call(async () => {
      const groups = await this.#adminClient.listConsumerGroupOffsets({ groups: [groupId] });
      const wanted = new Set(topics);
      return groups.flatMap((group) =>
        group.topics.filter((t) => wanted.has(t.name)).flatMap((t) =>
          t.partitions.filter((p) => p.committedOffset >= 0n).map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset.toString(),
          }))
        )
      ).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    });
  }

  async consume(options: ConsumeOptions): Promise<ConsumerHandle> {
    const handle = await startGroupConsumer(
      { settings: this.#settings, log: this.#log, health: this.#health },
      options,
    );
    this.#closers.push(handle.stop);
    return handle;
  }

  async producer(): Promise<Producer> {
    const producer = await openProducer(this.#settings);
    this.#closers.push(() => producer.close());
    return producer;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = await openTransactionalProducer(this.#settings, transactionalId);
    this.#closers.push(() => producer.close());
    return producer;
  }

  async close(): Promise<void> {
    const closers = this.#closers.splice(0).reverse();
    for (const close of closers) await close().catch(() => {});
    const admin = this.#admin;
    const offsets = this.#offsets;
    this.#admin = undefined;
    this.#offsets = undefined;
    await admin?.close().catch(() => {});
    await offsets?.close(true).catch(() => {});
  }
}
