/**
 * The current table of each overwrite feed, its journal and its snapshots. A batch's changes go
 * to the feed's journal (an append file, checkpointed like a partition), so a batch costs what it
 * holds, not the size of the table; the whole snapshot file is rewritten at most once per
 * interval (write aside, rename), from the table in memory, and then the journal starts empty.
 *
 * The table after a crash is the latest snapshot with the journal replayed over it. Replaying a
 * journal twice (a crash between a snapshot's rename and the journal's truncation) gives the same
 * table: each key ends with its last change either way.
 */
import { type Feed, recordKey } from "../config/feeds.ts";
import { DataError } from "../core/errors.ts";
import { storageError } from "./durable.ts";
import { readRegular, UnsafeEntryError } from "./entries.ts";
import { listPartitions } from "./layout.ts";

export interface Change {
  key: string;
  /** The record's line, or null for a deletion (a tombstone). */
  line: Uint8Array | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;

/** One journal line per change, newline included: `{"k":"<key>","v":<line or null>}`. */
export function journalLines(changes: readonly Change[]): Uint8Array[] {
  return changes.map(({ key, line }) => {
    const head = encoder.encode(`{"k":${JSON.stringify(key)},"v":`);
    const tail = line === null ? encoder.encode("null}\n") : encoder.encode("}\n");
    const out = new Uint8Array(head.length + (line?.length ?? 0) + tail.length);
    out.set(head, 0);
    if (line) out.set(line, head.length);
    out.set(tail, out.length - tail.length);
    return out;
  });
}

/** One journal line read back: the key, the record (null: deleted) and its text as written. */
export interface JournalEntry {
  key: string;
  value: Record<string, unknown> | null;
  raw: string | null;
}

/** Reads one journal line (without its newline); undefined if it is not one. */
export function parseJournalLine(line: string): JournalEntry | undefined {
  let entry: { k?: unknown; v?: unknown };
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry?.k !== "string") return undefined;
  const head = `{"k":${JSON.stringify(entry.k)},"v":`;
  if (!line.startsWith(head) || !line.endsWith("}")) return undefined;
  if (entry.v === null) return { key: entry.k, value: null, raw: null };
  if (typeof entry.v !== "object" || Array.isArray(entry.v)) return undefined;
  return {
    key: entry.k,
    value: entry.v as Record<string, unknown>,
    raw: line.slice(head.length, -1),
  };
}

export class Table {
  readonly rows = new Map<string, Uint8Array>();

  apply(changes: readonly Change[]): void {
    for (const { key, line } of changes) {
      if (line === null) this.rows.delete(key);
      else this.rows.set(key, line);
    }
  }

  /** The snapshot's content: one line per key. */
  chunks(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const newline = new Uint8Array([NEWLINE]);
    for (const line of this.rows.values()) out.push(line, newline);
    return out;
  }

  /** The latest snapshot of `feed` in the lake, with the journal at `journal` replayed over it. */
  static async load(root: string, feed: Feed, journal: string): Promise<Table> {
    const table = new Table();
    const { partitions } = await listPartitions(root, feed);
    const latest = partitions.at(-1);
    if (latest) {
      for (const [n, line] of (await readLines(latest.path)).entries()) {
        const value = parse(line, `${feed.name} snapshot ${latest.path}`, n);
        table.rows.set(recordKey(feed, value), encoder.encode(line));
      }
    }
    for (const [n, line] of (await readLines(journal)).entries()) {
      const change = parseJournalLine(line);
      if (!change) {
        throw new DataError(
          `Cannot load ${feed.name} journal ${journal}: bad entry (line ${n + 1})`,
        );
      }
      // The value's bytes as they came, not re-serialized.
      table.apply([{
        key: change.key,
        line: change.raw === null ? null : encoder.encode(change.raw),
      }]);
    }
    return table;
  }
}

async function readLines(path: string): Promise<string[]> {
  let data: Uint8Array | undefined;
  try {
    data = await readRegular(path);
  } catch (error) {
    throw error instanceof UnsafeEntryError ? error : storageError("read", path, error);
  }
  if (!data) return [];
  return decoder.decode(data).split("\n").filter((line) => line.trim() !== "");
}

function parse(line: string, what: string, n: number): Record<string, unknown> {
  try {
    const value = JSON.parse(line);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch (error) {
    throw new DataError(`Cannot load ${what}: ${(error as Error).message} (line ${n + 1})`);
  }
  throw new DataError(`Cannot load ${what}: not a JSON object (line ${n + 1})`);
}

/**
 * When each table feed's snapshot is next due: at most one rewrite per `intervalMs` per feed.
 * The first change after a quiet interval is written at once; later ones wait for a timer.
 */
export class SnapshotSchedule {
  #intervalMs: number;
  #last = new Map<string, number>();
  #dirty = new Set<string>();
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Notes a change to `feed`; true if its snapshot should be written now. */
  changed(feed: string, now: number): boolean {
    this.#dirty.add(feed);
    return now >= (this.#last.get(feed) ?? -Infinity) + this.#intervalMs;
  }

  /** Calls `fire` once the feed's interval has passed (one timer per feed). */
  arm(feed: string, now: number, fire: () => void): void {
    if (this.#timers.has(feed)) return;
    const wait = Math.max(0, (this.#last.get(feed) ?? now) + this.#intervalMs - now);
    this.#timers.set(
      feed,
      setTimeout(() => {
        this.#timers.delete(feed);
        fire();
      }, wait),
    );
  }

  isDirty(feed: string): boolean {
    return this.#dirty.has(feed);
  }

  written(feed: string, now: number): void {
    this.#dirty.delete(feed);
    this.#last.set(feed, now);
  }

  cancel(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
