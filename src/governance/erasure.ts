/**
 * Erasure of one person (DESIGN.md, "Governance"). Export, stable for the service:
 *
 * - `eraseUser({ config, warehouse, log, userId, kafka?, actor?, now? }) → ErasureReport`
 *
 * The person is found by their pseudonym: USER_ID_HASHED = HMAC(ANONYMIZATION_KEY, raw id), so
 * the key is required (ConfigError without it). Then, holding the load lock:
 * 1. every lake record file (feeds, quarantine and the consumers' table journals) holding
 *    the pseudonym is rewritten without the lines that contain it (lake/scrub.ts: scanned
 *    outside the lake lock, rewritten under it one file at a time, consumer checkpoints updated
 *    with the new lengths; files without it are not touched; links and other entries that are
 *    not regular files are skipped and reported). Quarantine lines hold the raw bytes
 *    of a derived record, so the substring match catches them too; a 64-hex HMAC does not occur
 *    by chance;
 * 2. Kafka tombstones (null values) go to every table feed whose primary key holds
 *    USER_ID_HASHED, one per key of theirs: keys found in the warehouse and in the removed
 *    table-feed lines, plus every key we can guess (the pseudonym alone; pseudonym|type for each
 *    type and UNKNOWN). Table topics are compacted changelogs: without tombstones a running lake
 *    consumer (which holds the whole table in memory) writes them into its next snapshot, and
 *    the processor restores their aggregates at start. Kafka unreachable (or no client given):
 *    lake and warehouse are still erased, and the report and the audit row say the tombstones
 *    were not sent (`tombstones.complete` false);
 * 3. in one transaction, rows with that USER_ID_HASHED are deleted from every warehouse table
 *    that has the column, facts before USERS (foreign keys), and the loader forgets the
 *    rewritten files so it does not trust offsets into files that shrank.
 * Lake before warehouse: once it is done, no load can bring the person back from the lake.
 * The audit row names the person by the first 12 hex digits of the pseudonym only: enough to
 * match a request, without keeping the raw id or the whole pseudonym around.
 * Someone who is not there: all counts zero (tombstones for the guessed keys are still sent).
 */
import type { Config } from "../config/config.ts";
import { type Feed, inDependencyOrder, recordKey } from "../config/feeds.ts";
import { legacyRecordKey } from "../contract/record.ts";
import { TRANSACTION_TYPES } from "../config/settings.ts";
import { ConfigError, ValidationError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { KafkaClient, OutgoingRecord } from "../kafka/client.ts";
import { rootMessage } from "../kafka/retry.ts";
import type { UnsafeEntry } from "../lake/entries.ts";
import { parseLakePath } from "../lake/layout.ts";
import { scrubLake } from "../lake/scrub.ts";
import { parseJournalLine } from "../lake/tables.ts";
import { hmacHexSync, hmacKey } from "../processor/pseudonymize.ts";
import { quoteIdent } from "../warehouse/db.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { adjustRowCount, forgetLakeFiles } from "../warehouse/bookkeeping.ts";
import { LOADER_TABLES } from "../warehouse/schema.ts";
import { acquireLoadLock } from "../warehouse/lock.ts";
import { allColumnNames } from "../warehouse/query.ts";
import { audit } from "./audit.ts";
import { LOAD_LOCK_WAIT_MS } from "./retention.ts";

export const USER_COLUMN = "USER_ID_HASHED";
const TYPE_COLUMN = "TRANSACTION_TYPE";
/** What the processor writes for a null TRANSACTION_TYPE (transform.ts `typeOrUnknown`). */
const UNKNOWN_TYPE = "UNKNOWN";
/** How long the Kafka step may take: the client keeps trying an unreachable broker meanwhile. */
export const KAFKA_TIMEOUT_MS = 10_000;

export interface EraseOptions {
  config: Config;
  /** The warehouse (either engine). */
  warehouse: Warehouse;
  log: Logger;
  /** The raw user id (e.g. U00042), as the producer and the person know it. */
  userId: string;
  /** Where tombstones go. Without it none are sent and the report says so. */
  kafka?: KafkaClient;
  /** Time allowed to each Kafka step before Kafka counts as unreachable (default 10 s). */
  kafkaTimeoutMs?: number;
  actor?: string;
  now?: Date;
}

export interface TombstoneReport {
  /** Tombstones the broker acknowledged, per table topic (0 for a topic that does not exist). */
  byTopic: Record<string, number>;
  total: number;
  /** Every tombstone acknowledged. False: Kafka may still hold the person; run erase again. */
  complete: boolean;
  /** Why not complete, in one line. */
  error?: string;
}

export interface ErasureReport {
  /** First 12 hex digits of the pseudonym (what the audit log keeps). */
  subject: string;
  /** Lake files rewritten and lines removed from them. */
  lake: { files: number; lines: number; byFile: { path: string; lines: number }[] };
  /** Lake entries that are not regular files (links, folders in a file's place…): not touched. */
  skipped: UnsafeEntry[];
  /** Warehouse rows deleted per table (only tables with a USER_ID_HASHED column). */
  rows: Record<string, number>;
  totalRows: number;
  /** Kafka tombstones for the person's keys in table feeds. */
  tombstones: TombstoneReport;
}

export async function eraseUser(options: EraseOptions): Promise<ErasureReport> {
  // No load may run meanwhile: it could read a file mid-rewrite or re-insert deleted rows.
  const lock = await acquireLoadLock(options.config.warehousePath, LOAD_LOCK_WAIT_MS);
  try {
    return await erase(options);
  } finally {
    lock.release();
  }
}

async function erase(options: EraseOptions): Promise<ErasureReport> {
  const { config, warehouse, log } = options;
  const now = options.now ?? new Date();
  const userId = options.userId?.trim();
  if (!userId) throw new ValidationError("erase needs a user id (--user ID)");
  if (!config.anonymizationKey) {
    throw new ConfigError(
      "ANONYMIZATION_KEY is not set: erasure finds a person by their pseudonym, which needs the key",
    );
  }
  const hashed = hmacHexSync(hmacKey(config.anonymizationKey), userId);
  const subject = hashed.slice(0, 12);
  const root = config.dataLakeDir;

  // The lake first (lake/scrub.ts: scanned outside the lake lock, each file holding the person
  // rewritten under it, consumer checkpoints kept true), then the tombstones. A running consumer
  // may still hold the person in its table until the tombstones reach it: they remove them there.
  const tables = personTables(config);
  const tableOf = new Map(tables.map((feed) => [feed.name, feed]));
  const keys = new Map(tables.map((feed) => [feed.name, new Set(guessedKeys(feed, hashed))]));
  // The warehouse keys cannot change before our DELETE: we hold the load lock.
  for (const feed of tables) {
    for (const value of await warehouseValues(warehouse, feed, hashed)) {
      keysOf(feed, value, keys.get(feed.name));
    }
  }
  const byFile: { path: string; lines: number }[] = [];
  const lakeStarted = performance.now();
  const lake = await scrubLake(root, hashed);
  for (const entry of lake.skipped) {
    log.warn("erasure.entry_skipped", {
      path: entry.path,
      kind: entry.kind,
      reason: "not a regular file: the lake follows no links",
    });
  }
  log.info("erasure.lake_done", {
    subject,
    ms: Math.round(performance.now() - lakeStarted),
    files: lake.files.length,
    scannedFiles: lake.scanned.files,
    scannedBytes: lake.scanned.bytes,
    longestLockMs: Math.round(lake.longestLockMs),
  });
  for (const { path, lines } of lake.files) {
    byFile.push({ path, lines: lines.length });
    const where = parseLakePath(root, path);
    const feed = where && where.kind !== "rejected" ? tableOf.get(where.feed) : undefined;
    if (!feed) continue;
    const values = where?.kind === "journal" ? journalValues(lines) : parseLines(lines);
    for (const fields of values) {
      if (fields[USER_COLUMN] === hashed) keysOf(feed, fields, keys.get(feed.name));
    }
  }
  const tombstones = await sendTombstones(
    options.kafka,
    keys,
    options.kafkaTimeoutMs ?? KAFKA_TIMEOUT_MS,
    log,
  );

  const rows: Record<string, number> = {};
  const tablesInOrder = await tablesInDeleteOrder(warehouse, config);
  const counted = (await warehouse.dialect.tables(warehouse)).includes(LOADER_TABLES);
  const report = await warehouse.transaction(async (tx) => {
    for (const table of tablesInOrder) {
      rows[table] = (await tx.run(
        `DELETE FROM ${quoteIdent(table)} WHERE ${quoteIdent(USER_COLUMN)} = ?`,
        [hashed],
      )).changes;
      // The loader's row counts (what /status shows) follow, in the same transaction.
      if (counted) await adjustRowCount(tx, table, -rows[table]);
    }
    // Rewritten files shrank: the loader must not trust its offsets into them. (It never reads
    // the quarantine, whose paths would otherwise alias the feed's own in its bookkeeping.)
    const loaded = byFile.flatMap((f) => {
      const where = parseLakePath(root, f.path);
      return where?.kind === "partition" ? [where.relative] : [];
    });
    if (loaded.length > 0) await forgetLakeFiles(tx, loaded);
    const report: ErasureReport = {
      subject,
      lake: { files: byFile.length, lines: byFile.reduce((s, f) => s + f.lines, 0), byFile },
      skipped: lake.skipped,
      rows,
      totalRows: Object.values(rows).reduce((s, n) => s + n, 0),
      tombstones,
    };
    await audit(tx, {
      actor: options.actor ?? "erasure",
      action: "erasure.run",
      target: `user:${subject}`,
      // Not "ok" while Kafka may still hold the person: the erasure is not finished.
      outcome: tombstones.complete ? "ok" : "error",
      detail: {
        lakeFiles: report.lake.files,
        lakeLines: report.lake.lines,
        rows: report.rows,
        totalRows: report.totalRows,
        tombstones,
      },
    }, now);
    return report;
  });
  log.info("erasure.done", {
    subject,
    lakeFiles: report.lake.files,
    lakeLines: report.lake.lines,
    rows: report.totalRows,
    tombstones: tombstones.total,
    tombstonesComplete: tombstones.complete,
  });
  return report;
}

/** Table feeds keyed by the person: their changelog topics hold one record per key of theirs. */
function personTables(config: Config): Feed[] {
  return config.feeds.filter((f) => f.kind === "table" && f.primaryKey.includes(USER_COLUMN));
}

/**
 * Keys the person may have even where we found none (Kafka can hold what the lake has not got
 * yet): the pseudonym alone, or pseudonym and each transaction type, UNKNOWN included.
 */
function guessedKeys(feed: Feed, hashed: string): string[] {
  const others = feed.primaryKey.filter((f) => f !== USER_COLUMN);
  if (others.length === 0) return [recordKey(feed, { [USER_COLUMN]: hashed })];
  if (others.length === 1 && others[0] === TYPE_COLUMN) {
    // Both key forms: topics written before composite keys became JSON arrays hold "a|b" keys.
    return [...TRANSACTION_TYPES, UNKNOWN_TYPE].flatMap((type) => {
      const value = { [USER_COLUMN]: hashed, [TYPE_COLUMN]: type };
      return [recordKey(feed, value), legacyRecordKey(feed, value)];
    });
  }
  return [];
}

/**
 * Adds the Kafka keys of a table record to `into`: its recordKey and, for a null type, also the
 * key with UNKNOWN (what the processor writes; the lake keys a posted null type as "").
 */
function keysOf(
  feed: Feed,
  value: Record<string, unknown>,
  into = new Set<string>(),
): Set<string> {
  into.add(recordKey(feed, value)).add(legacyRecordKey(feed, value));
  if (feed.primaryKey.includes(TYPE_COLUMN) && value[TYPE_COLUMN] == null) {
    const unknown = { ...value, [TYPE_COLUMN]: UNKNOWN_TYPE };
    into.add(recordKey(feed, unknown)).add(legacyRecordKey(feed, unknown));
  }
  return into;
}

/** The primary-key columns of the person's rows in a feed's table (none if it lacks them). */
async function warehouseValues(
  sql: Sql,
  feed: Feed,
  hashed: string,
): Promise<Record<string, unknown>[]> {
  const columns = await allColumnNames(sql, feed.name);
  if (!feed.primaryKey.every((c) => columns.includes(c))) return [];
  return await sql.all(
    `SELECT ${feed.primaryKey.map(quoteIdent).join(", ")} FROM ${quoteIdent(feed.name)} ` +
      `WHERE ${quoteIdent(USER_COLUMN)} = ?`,
    [hashed],
  );
}

/** JSON objects among `lines`; anything else cannot be a key of the consumer's table. */
function parseLines(lines: string[]): Record<string, unknown>[] {
  const values: Record<string, unknown>[] = [];
  for (const line of lines) {
    try {
      const value = JSON.parse(line);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) values.push(value);
    } catch {
      // not JSON: removed all the same, but no key to tombstone
    }
  }
  return values;
}

/** The values of table journal lines (lake/tables.ts owns their format); deletions carry none. */
function journalValues(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    const change = parseJournalLine(line);
    return change?.value ? [change.value] : [];
  });
}

/**
 * Sends each key's tombstone (feed name = topic) to every partition and waits for the broker's
 * acknowledgement; the report counts keys.
 * Topics that do not exist are skipped: nothing there to delete, and sending would let the broker
 * auto-create them uncompacted. Never throws: a failure is reported, the erasure goes on.
 */
async function sendTombstones(
  kafka: KafkaClient | undefined,
  keys: Map<string, Set<string>>,
  timeoutMs: number,
  log: Logger,
): Promise<TombstoneReport> {
  const byTopic: Record<string, number> = Object.fromEntries([...keys.keys()].map((t) => [t, 0]));
  if (!kafka) {
    return { byTopic, total: 0, complete: false, error: "no Kafka client was given" };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const work = (async () => {
      const existing = new Set(await kafka.listTopics());
      const records: OutgoingRecord[] = [];
      const sent: Record<string, number> = {};
      for (const [topic, set] of keys) {
        if (!existing.has(topic)) continue;
        // A key's partition depends on its writer: the processor puts a person's table rows in
        // the partition of their raw records (murmur2 of the raw id, which the key does not
        // hold), other writers hash the key. A tombstone in every partition reaches it anywhere;
        // where the key never was, it deletes nothing.
        const partitions = (await kafka.endOffsets(topic)).length;
        for (const key of set) {
          for (let partition = 0; partition < partitions; partition++) {
            records.push({ topic, key, value: null, partition });
          }
        }
        sent[topic] = set.size;
      }
      if (records.length === 0) return sent;
      const producer = await kafka.producer();
      try {
        await producer.send(records);
      } finally {
        await producer.close().catch(() => {});
      }
      return sent;
    })();
    work.catch(() => {}); // a failure after the timeout is already reported
    const sent = await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from Kafka in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    Object.assign(byTopic, sent);
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    return { byTopic, total, complete: true };
  } catch (error) {
    // Nothing counts as sent: send() is one batch, and a success after the timeout is unknown.
    // The cause, not the client's wrapping ("Listing topics failed."), and where it happened.
    const message = `Kafka did not take the tombstones: ${rootMessage(error)}`.replace(/\s+/g, " ");
    log.warn("erasure.tombstones_not_sent", { error: message });
    return { byTopic, total: 0, complete: false, error: message };
  } finally {
    clearTimeout(timer);
  }
}

/** Tables with a USER_ID_HASHED column: non-feed tables, then feeds dependents-first. */
async function tablesInDeleteOrder(sql: Sql, config: Config): Promise<string[]> {
  const all: string[] = [];
  for (const name of await sql.dialect.tables(sql)) {
    if ((await allColumnNames(sql, name)).includes(USER_COLUMN)) all.push(name);
  }
  const feedOrder = inDependencyOrder(config.feeds).map((f) => f.name).reverse();
  const others = all.filter((name) => !feedOrder.includes(name));
  return [...others, ...feedOrder.filter((name) => all.includes(name))];
}
