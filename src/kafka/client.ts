/**
 * The small interface the product uses to talk to Kafka. One implementation (platformatic.ts) sits
 * behind it, chosen in connect.ts, so swapping the client library is one file. Offsets are
 * decimal strings (Kafka's are 64-bit).
 */

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Kafka record timestamp, milliseconds since the epoch. */
  timestamp: number;
  headers: Record<string, string>;
}

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  /**
   * Text (UTF-8 on the wire) or bytes (Avro in the Schema Registry wire format, sent as they
   * are); null is a tombstone: it deletes `key` from a table feed.
   */
  value: string | Uint8Array | null;
  headers?: Record<string, string>;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
  /**
   * Explicit partition (co-partitioning: the processor writes per-user outputs to the partition
   * its input came from). Unset: the default partitioner (murmur2 of the key, as the Java client).
   */
  partition?: number;
}

/** A position in a partition: `offset` is the next offset to read. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * The consumer group generation a batch was fetched under. A transactional offset commit carries
 * it (KIP-447), so the broker fences a zombie whose partitions were given to another member.
 */
export interface GroupGeneration {
  groupId: string;
  memberId: string;
  generationId: number;
}

/** Records of one topic-partition, delivered in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: KafkaRecord[];
  /** Where the consumer continues after this batch (past any transaction markers). */
  nextOffset: string;
  highWatermark: string;
  /** The generation of the group member that fetched this batch. */
  generation: GroupGeneration;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts: the earliest record (default) or the end. */
  fromBeginning?: boolean;
  /** See only committed transactional records (default true). */
  readCommitted?: boolean;
  /**
   * Commit `nextOffset` to the group after `onBatch` resolves (default true). The processor turns
   * it off because it commits offsets inside its Kafka transaction.
   */
  commit?: boolean;
  /** Resolve `done` once every partition has reached the end it had when consuming started. */
  stopWhenCaughtUp?: boolean;
  /**
   * Called per batch; must resolve only once the batch is durably handled. A batch may hold no
   * records (only aborted ones or transaction markers) and still move `nextOffset`.
   */
  onBatch(batch: RecordBatch): Promise<void>;
  /** Bytes fetched per partition per request (default 4 MiB). */
  maxBytesPerPartition?: number;
  /**
   * Batches of different partitions handled at once (default 1). Above 1, `onBatch` calls for
   * different partitions may overlap; those of one partition never do, and stay in order.
   */
  partitionsConcurrently?: number;
  /**
   * Read every partition of `topics` without joining the group: no rebalances, offsets still
   * committed to `groupId` (as a standalone consumer). For a group with one reader by design,
   * like the lake (one writer per lake), run as one consumer per feed so that no feed's failure
   * or restart pauses the others. Default false: join the group.
   */
  assignAll?: boolean;
  /**
   * Called after a rebalance with the partitions this member now owns, before any of their
   * batches is handed to `onBatch` (the processor loads their state here).
   */
  onAssigned?(partitions: TopicPartition[]): Promise<void>;
  /**
   * Called with the partitions this member loses, once their batches in hand have finished and
   * before another member may read them (the processor drops their state here).
   */
  onRevoked?(partitions: TopicPartition[]): Promise<void>;
}

export interface ConsumerHandle {
  /** Resolves when caught up (with stopWhenCaughtUp) or after stop(); rejects on a fatal error. */
  done: Promise<void>;
  /** Stops fetching, waits for the batch in hand, leaves the group. */
  stop(): Promise<void>;
}

export interface Producer {
  /** Sends and waits for the broker's acknowledgement (acks = all, idempotent). */
  send(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface TransactionalProducer {
  /**
   * Produces `records` and commits the consumer group's `offsets` in one Kafka transaction: both
   * happen or neither does. The commit carries `generation` (KIP-447): if the group has moved on
   * (the partitions now belong to another member), the broker refuses it and the transaction
   * aborts, so a zombie cannot commit. `records` is read as the produce calls go out (a lazy
   * iterable lets a large transaction's records be made and let go a call at a time).
   */
  sendWithOffsets(
    records: Iterable<OutgoingRecord>,
    commit: { generation: GroupGeneration; offsets: PartitionOffset[] },
  ): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** Log compaction, for changelog (table) topics. */
  compact?: boolean;
  /** Replication factor; default from the config (`min(3, brokers)`). */
  replicationFactor?: number;
}

export interface KafkaClient {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /**
   * Kafka's topic ids (UUIDs) of those of `topics` that exist. A topic deleted and created again
   * under the same name gets a new id: the lake's checkpoint compares them to notice it.
   */
  topicIds(topics: string[]): Promise<Map<string, string>>;
  /** The high watermark (next offset to be written) of every partition of `topic`. */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Committed offsets of a group; partitions without a commit are left out. */
  committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]>;
  consume(options: ConsumeOptions): Promise<ConsumerHandle>;
  producer(): Promise<Producer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  close(): Promise<void>;
}
