/**
 * Counters of the parts running in this process, read when /metrics or /status is asked for.
 * The consumer and processor keep their own counters; loads add theirs here.
 */
import type { KafkaHealthSnapshot } from "../kafka/retry.ts";
import type { RegistryHealthSnapshot } from "../registry/client.ts";

export interface FeedCounters {
  consumed: number;
  rejected: number;
}

export interface ProcessorCounters {
  recordsIn: number;
  rejected: number;
  /** Records written per output topic. */
  out: Record<string, number>;
}

export class ServiceStats {
  /** Whether Kafka answers, as the running parts see it (down during an outage). */
  kafka?: () => KafkaHealthSnapshot;
  /** Whether the Schema Registry answers, as the lake consumer sees it (registry feeds only). */
  registry?: () => RegistryHealthSnapshot | undefined;
  /** Per-feed counters of the lake consumer, when one runs in this process. */
  lake?: () => Record<string, FeedCounters>;
  /** Feeds the lake consumer cannot read right now, with the cause (being retried). */
  lakeErrors?: () => Record<string, string>;
  /** Counters of the processor, when one runs in this process. */
  processor?: () => ProcessorCounters;
  /** Rows loaded (inserted + updated) per feed by loads of this process. */
  readonly rowsLoaded = new Map<string, number>();
  readonly rowsRejected = new Map<string, number>();

  addLoaded(feed: string, rows: number, rejected: number): void {
    this.rowsLoaded.set(feed, (this.rowsLoaded.get(feed) ?? 0) + rows);
    this.rowsRejected.set(feed, (this.rowsRejected.get(feed) ?? 0) + rejected);
  }
}
