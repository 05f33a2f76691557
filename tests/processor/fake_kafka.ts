/**
 * An in-memory KafkaClient for unit tests of the processor (behind the interface the real client
 * implements): topics with partitions, records visible only once their transaction commits
 * (read_committed), consumer groups whose members share the partitions (round robin, every join or
 * leave is a new generation, revoked partitions reported once the member's batch in hand is done,
 * assigned ones before their first batch), and transactional offset commits refused when their
 * generation is not the group's current one (KIP-447). `expel` drops a member as a session
 * timeout would, without telling it: a zombie.
 */
import type {
  ConsumeOptions,
  ConsumerHandle,
  KafkaClient,
  KafkaRecord,
  OutgoingRecord,
  PartitionOffset,
  Producer,
  TopicPartition,
  TopicSpec,
  TransactionalProducer,
} from "../../src/kafka/client.ts";

const enc = new TextEncoder();

export class FencedError extends Error {}

interface Topic {
  id: string;
  partitions: KafkaRecord[][];
}

interface Member {
  id: string;
  options: ConsumeOptions;
  owned: Set<string>;
  positions: Map<string, bigint>;
  busy: Promise<void>;
  stopped: boolean;
}

interface Group {
  generation: number;
  /** Rebalances under way: members start no new batch meanwhile. */
  rebalancing: number;
  /** The latest rebalance: the next one waits for it. */
  turn: Promise<void>;
  members: Member[];
  committed: Map<string, bigint>;
}

const tp = (topic: string, partition: number) => `${topic}:${partition}`;
const split = (id: string): TopicPartition => {
  const at = id.lastIndexOf(":");
  return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)) };
};

export class FakeBroker {
  topics = new Map<string, Topic>();
  groups = new Map<string, Group>();
  /** Transactional ids in use, with the epoch of their latest producer. */
  epochs = new Map<string, number>();
  batchRecords = 700;

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      this.groups.set(
        id,
        g = {
          generation: 0,
          rebalancing: 0,
          turn: Promise.resolve(),
          members: [],
          committed: new Map(),
        },
      );
    }
    return g;
  }

  /** New generation: partitions of the group's topics dealt round robin to its members. */
  async rebalance(groupId: string): Promise<void> {
    const g = this.group(groupId);
    g.rebalancing++;
    // One rebalance at a time per group, as the coordinator runs them.
    const turn = g.turn.then(() => this.#rebalance(g));
    g.turn = turn.catch(() => {});
    try {
      await turn;
    } finally {
      g.rebalancing--;
    }
  }

  async #rebalance(g: Group): Promise<void> {
    const live = g.members.filter((m) => !m.stopped);
    // Batches in hand finish (and commit) under the old generation first.
    for (const m of live) await m.busy;
    g.generation++;
    const all = [...new Set(live.flatMap((m) => m.options.topics))].flatMap((t) =>
      (this.topics.get(t)?.partitions ?? []).map((_, p) => tp(t, p))
    );
    const next = new Map<Member, Set<string>>(live.map((m) => [m, new Set()]));
    all.forEach((id, i) => next.get(live[i % live.length])?.add(id));
    for (const m of live) {
      const keep = next.get(m)!;
      const revoked = [...m.owned].filter((id) => !keep.has(id));
      if (revoked.length > 0) await m.options.onRevoked?.(revoked.map(split));
      for (const id of revoked) m.owned.delete(id);
    }
    for (const m of live) {
      const added = [...next.get(m)!].filter((id) => !m.owned.has(id));
      for (const id of added) {
        m.owned.add(id);
        const committed = g.committed.get(id);
        m.positions.set(id, committed ?? 0n);
      }
      if (added.length > 0) await m.options.onAssigned?.(added.map(split));
    }
  }

  /** Drops a member from its group without telling it, as an expired session does. */
  async expel(groupId: string, memberId: string): Promise<void> {
    const g = this.group(groupId);
    g.members = g.members.filter((m) => m.id !== memberId);
    await this.rebalance(groupId);
  }

  append(record: OutgoingRecord): void {
    const topic = this.topics.get(record.topic);
    if (!topic) throw new Error(`no topic ${record.topic}`);
    const n = topic.partitions.length;
    const p = record.partition ?? (record.key === null ? 0 : hash(record.key) % n);
    if (p >= n) throw new Error(`${record.topic} has no partition ${p}`);
    const log = topic.partitions[p];
    log.push({
      topic: record.topic,
      partition: p,
      offset: String(log.length),
      key: record.key === null ? null : enc.encode(record.key),
      value: record.value === null
        ? null
        : typeof record.value === "string"
        ? enc.encode(record.value)
        : record.value,
      timestamp: record.timestamp ?? Date.now(),
      headers: record.headers ?? {},
    });
  }
}

function hash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) >>> 0;
  return h;
}

export class FakeKafka implements KafkaClient {
  constructor(readonly broker: FakeBroker) {}

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      if (this.broker.topics.has(spec.topic)) continue;
      this.broker.topics.set(spec.topic, {
        id: crypto.randomUUID(),
        partitions: Array.from({ length: spec.partitions ?? 1 }, () => []),
      });
    }
    return Promise.resolve();
  }

  listTopics(): Promise<string[]> {
    return Promise.resolve([...this.broker.topics.keys()]);
  }

  topicIds(topics: string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const t of topics) {
      const id = this.broker.topics.get(t)?.id;
      if (id) ids.set(t, id);
    }
    return Promise.resolve(ids);
  }

  endOffsets(topic: string): Promise<PartitionOffset[]> {
    const t = this.broker.topics.get(topic);
    return Promise.resolve(
      (t?.partitions ?? []).map((log, partition) => ({
        topic,
        partition,
        offset: String(log.length),
      })),
    );
  }

  committedOffsets(groupId: string, topics: string[]): Promise<PartitionOffset[]> {
    const g = this.broker.group(groupId);
    return Promise.resolve(
      [...g.committed].map(([id, offset]) => ({ ...split(id), offset: String(offset) }))
        .filter((o) => topics.includes(o.topic)),
    );
  }

  async consume(options: ConsumeOptions): Promise<ConsumerHandle> {
    const broker = this.broker;
    const g = broker.group(options.groupId);
    const member: Member = {
      id: crypto.randomUUID(),
      options,
      owned: new Set(),
      positions: new Map(),
      busy: Promise.resolve(),
      stopped: false,
    };
    const ends = new Map<string, bigint>();
    for (const t of options.topics) {
      for (const o of await this.endOffsets(t)) ends.set(tp(t, o.partition), BigInt(o.offset));
    }
    g.members.push(member);
    await broker.rebalance(options.groupId);

    let resolveDone!: () => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => (resolveDone = res, rejectDone = rej));
    const caughtUp = () =>
      [...ends].every(([id, end]) => {
        const committed = g.committed.get(id) ?? 0n;
        const position = member.positions.get(id) ?? 0n;
        return (committed > position ? committed : position) >= end;
      });

    const loop = async () => {
      while (!member.stopped) {
        if (options.stopWhenCaughtUp && caughtUp()) break;
        let worked = false;
        if (g.rebalancing > 0 && g.members.includes(member)) {
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        for (const id of [...member.owned]) {
          if (member.stopped || !member.owned.has(id)) continue;
          if (g.rebalancing > 0 && g.members.includes(member)) break;
          const { topic, partition } = split(id);
          const log = broker.topics.get(topic)!.partitions[partition];
          const from = member.positions.get(id) ?? 0n;
          if (from >= BigInt(log.length)) continue;
          const records = log.slice(Number(from), Number(from) + broker.batchRecords);
          const next = from + BigInt(records.length);
          const generation = {
            groupId: options.groupId,
            memberId: member.id,
            generationId: g.generation,
          };
          worked = true;
          const work = options.onBatch({
            topic,
            partition,
            records,
            nextOffset: String(next),
            highWatermark: String(log.length),
            generation,
          });
          member.busy = work.then(() => {}, () => {});
          await work;
          member.positions.set(id, next);
          if (options.commit ?? true) g.committed.set(id, next);
        }
        await new Promise((r) => setTimeout(r, worked ? 0 : 2));
      }
    };
    const finish = async () => {
      member.stopped = true;
      g.members = g.members.filter((m) => m !== member);
      const owned = [...member.owned].map(split);
      member.owned.clear();
      if (owned.length > 0) await options.onRevoked?.(owned);
      await broker.rebalance(options.groupId);
    };
    const running = loop().then(finish).then(resolveDone, async (error) => {
      member.stopped = true;
      g.members = g.members.filter((m) => m !== member);
      await broker.rebalance(options.groupId).catch(() => {});
      rejectDone(error);
    });
    return {
      done,
      stop: async () => {
        member.stopped = true;
        await running;
      },
    };
  }

  producer(): Promise<Producer> {
    return Promise.resolve({
      send: (records) => {
        for (const r of records) this.broker.append(r);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
  }

  transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const broker = this.broker;
    const epoch = (broker.epochs.get(transactionalId) ?? 0) + 1;
    broker.epochs.set(transactionalId, epoch);
    return Promise.resolve({
      sendWithOffsets: (records, commit) => {
        if (broker.epochs.get(transactionalId) !== epoch) {
          return Promise.reject(new FencedError(`${transactionalId} was fenced by a newer epoch`));
        }
        const g = broker.group(commit.generation.groupId);
        const { generationId, memberId } = commit.generation;
        const member = g.members.some((m) => m.id === memberId);
        if (generationId !== -1 && (generationId !== g.generation || !member)) {
          return Promise.reject(
            new FencedError(`generation ${generationId} is not ${g.generation}: commit refused`),
          );
        }
        // All or nothing, as a transaction: a lazy iterable that fails appends none of it.
        let all: OutgoingRecord[];
        try {
          all = [...records];
        } catch (error) {
          return Promise.reject(error);
        }
        for (const r of all) broker.append(r);
        for (const o of commit.offsets) g.committed.set(tp(o.topic, o.partition), BigInt(o.offset));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
