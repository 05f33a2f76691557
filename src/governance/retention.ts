/**
 * Retention (DESIGN.md, "Governance"). Export, stable for the scheduler and the service:
 *
 * - `runCleanup({ config, warehouse, log, days?, dryRun, now?, actor? }) → CleanupReport`
 * - `retentionCutoff(now, days) → "YYYY-MM-DD"`: the oldest day that is kept.
 *
 * "Older than N days": a partition dated D (UTC) is kept while D >= today − N days and deleted
 * once D < today − N. With N = 30 on 2026-11-24 the cutoff is 2026-10-25: partitions 0, 29 and 30
 * days old stay, one 31 or 40 days old goes. N = days (--days, overrides every feed) or the
 * feed's `retentionDays` or RETENTION_DAYS.
 *
 * What goes, per feed:
 * - lake partitions `<root>/<FEED>/<date>/` older than the cutoff; for table and static feeds the
 *   newest partition is always kept, because it is the current state rather than history;
 * - the same feed's quarantine partitions `<root>/_rejected/<FEED>/<date>/`, same retention
 *   (quarantines of names that are no feed use RETENTION_DAYS);
 * - warehouse rows of stream feeds whose event time (`timeField`) is before the cutoff day
 *   (compared as instants: the dialect's timeBefore); rows with no valid time stay. A
 *   stream declared without `timeField` is partitioned by Kafka timestamp: its rows go with the
 *   date of the partition they were loaded from (lineage `_SOURCE_FILE`).
 * Folders that are not dates are left alone and reported. The loader forgets deleted files.
 * `dryRun` computes the same report and deletes nothing. Every deletion is audited.
 */
import type { Config } from "../config/config.ts";
import { retentionOf } from "../config/config.ts";
import type { Feed } from "../config/feeds.ts";
import { DataError, DomainError, UsageError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { dropPartitions, partitionsBefore } from "../lake/drop.ts";
import type { UnsafeEntry } from "../lake/entries.ts";
import {
  dayOf,
  listPartitions,
  type Partition,
  quarantinedFeeds,
  REJECTED_DIR,
} from "../lake/layout.ts";
import { quoteIdent } from "../warehouse/db.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { adjustRowCount, forgetLakeFiles } from "../warehouse/bookkeeping.ts";
import { LOADER_TABLES } from "../warehouse/schema.ts";
import { acquireLoadLock } from "../warehouse/lock.ts";
import { allColumnNames } from "../warehouse/query.ts";
import { audit } from "./audit.ts";

export interface CleanupOptions {
  config: Config;
  /** The warehouse (either engine). */
  warehouse: Warehouse;
  log: Logger;
  /** Overrides the retention of every feed. */
  days?: number;
  dryRun: boolean;
  now?: Date;
  /** Who runs it, for the audit log (default "retention"). */
  actor?: string;
}

export interface FeedCleanup {
  feed: string;
  retentionDays: number;
  /** Oldest kept day (YYYY-MM-DD). */
  keepFrom: string;
  /** Lake partitions deleted (or that would be, in a dry run). */
  partitions: Partition[];
  /** Quarantine partitions deleted (or that would be). */
  rejected: Partition[];
  /** Warehouse rows deleted (or that would be). */
  rows: number;
  /** Bytes of the deleted partition files, lake and quarantine. */
  bytes: number;
  /** Entries that are not date partitions, left alone. */
  strays: string[];
}

export interface CleanupReport {
  dryRun: boolean;
  today: string;
  feeds: FeedCleanup[];
  totals: { partitions: number; rows: number; bytes: number; strays: number };
}

export function retentionCutoff(now: Date, days: number): string {
  const today = dayOf(now);
  const [y, m, d] = today.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - days)).toISOString().slice(0, 10);
}

/** How long cleanup and erasure wait for a running load to finish. */
export const LOAD_LOCK_WAIT_MS = 60_000;

export async function runCleanup(options: CleanupOptions): Promise<CleanupReport> {
  if (options.days !== undefined && (!Number.isInteger(options.days) || options.days < 0)) {
    throw new UsageError(`--days must be a whole number of days >= 0, got ${options.days}`);
  }
  // A load must not read a file while it goes, nor insert rows we are deleting.
  const lock = options.dryRun
    ? undefined
    : await acquireLoadLock(options.config.warehousePath, LOAD_LOCK_WAIT_MS);
  try {
    return await cleanup(options);
  } finally {
    lock?.release();
  }
}

async function cleanup(options: CleanupOptions): Promise<CleanupReport> {
  const { config, warehouse: db, log, dryRun } = options;
  const now = options.now ?? new Date();
  const actor = options.actor ?? "retention";
  const root = config.dataLakeDir;

  // Feeds first, then quarantines of names that are not (or no longer) feeds.
  const targets: { name: string; feed?: Feed }[] = config.feeds.map((feed) => ({
    name: feed.name,
    feed,
  }));
  for (const name of await quarantinedFeeds(root)) {
    if (!targets.some((t) => t.name === name)) targets.push({ name });
  }

  const report: CleanupReport = {
    dryRun,
    today: dayOf(now),
    feeds: [],
    totals: { partitions: 0, rows: 0, bytes: 0, strays: 0 },
  };
  const failures: Error[] = [];
  for (const { name, feed } of targets) {
    try {
      await cleanTarget(name, feed);
    } catch (error) {
      // One feed that cannot be cleaned (its table broken, a file refused) stops no other.
      const message = (error as Error)?.message ?? String(error);
      failures.push(
        error instanceof DomainError && message.includes(name)
          ? error
          : new DataError(`Cannot clean ${name}: ${message}`, { cause: error }),
      );
      log.error("retention.feed_failed", { feed: name, error: message });
    }
  }

  async function cleanTarget(name: string, feed: Feed | undefined): Promise<void> {
    const retentionDays = options.days ?? (feed ? retentionOf(config, feed) : config.retentionDays);
    const keepFrom = retentionCutoff(now, retentionDays);
    const lake = await listPartitions(root, name);
    const quarantine = await listPartitions(root, name, { rejected: true });
    const unsafe = [...lake.unsafe, ...quarantine.unsafe];

    let partitions = partitionsBefore(lake.partitions, keepFrom, report.today);
    if (feed && feed.kind !== "stream" && partitions.length === lake.partitions.length) {
      partitions = partitions.slice(0, -1); // keep the current snapshot of a table
    }
    let rejected = partitionsBefore(quarantine.partitions, keepFrom, report.today);
    const rows = feed ? await expiredRows(db, feed, keepFrom, dryRun) : 0;
    const strays = [...lake.strays, ...quarantine.strays];

    const target = `${name}`;
    if (!dryRun && rows > 0) {
      await audit(db, {
        actor,
        action: "retention.delete_rows",
        target,
        outcome: "ok",
        detail: { rows, before: keepFrom, retentionDays },
      }, now);
    }
    if (!dryRun) {
      // Only real folders and regular files go; what was swapped for a link meanwhile stays.
      const lakeDone = await deletePartitions(db, root, partitions, actor, target, now, true);
      const rejectedDone = await deletePartitions(db, root, rejected, actor, target, now, false);
      partitions = lakeDone.dropped;
      rejected = rejectedDone.dropped;
      unsafe.push(...lakeDone.skipped, ...rejectedDone.skipped);
    }
    for (const entry of unsafe) {
      log.warn("retention.entry_skipped", {
        feed: name,
        path: entry.path,
        kind: entry.kind,
        reason: "not a real folder or regular file: the lake follows no links",
      });
    }

    const bytes = [...partitions, ...rejected].reduce((sum, p) => sum + p.bytes, 0);
    const entry = {
      feed: name,
      retentionDays,
      keepFrom,
      partitions,
      rejected,
      rows,
      bytes,
      strays,
    };
    report.feeds.push(entry);
    report.totals.partitions += partitions.length + rejected.length;
    report.totals.rows += rows;
    report.totals.bytes += bytes;
    report.totals.strays += strays.length;
    if (partitions.length + rejected.length + rows + strays.length > 0) {
      log.info(dryRun ? "retention.feed_planned" : "retention.feed_cleaned", {
        feed: name,
        partitions: partitions.length,
        rejected: rejected.length,
        rows,
        bytes,
        strays: strays.length,
        keepFrom,
      });
    }
  }

  if (!dryRun) {
    await audit(db, {
      actor,
      action: "retention.run",
      outcome: failures.length ? "error" : "ok",
      detail: {
        ...report.totals,
        today: report.today,
        days: options.days ?? null,
        ...(failures.length ? { errors: failures.map((f) => f.message) } : {}),
      },
    }, now);
  }
  log.info(dryRun ? "retention.dry_run" : "retention.done", report.totals);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new DataError(
      `Cannot clean ${failures.length} feeds: ${failures.map((f) => f.message).join("; ")}`,
      { cause: new AggregateError(failures) },
    );
  }
  return report;
}

/**
 * Counts (dry run) or deletes the rows of a stream feed older than `keepFrom`: by event time
 * when the feed declares `timeField`; otherwise (partitioned by Kafka timestamp) by the date of
 * the partition the row came from, read from its lineage `_SOURCE_FILE` (`FEED/DATE/FILE`).
 */
async function expiredRows(
  db: Warehouse,
  feed: Feed,
  keepFrom: string,
  dryRun: boolean,
): Promise<number> {
  if (feed.kind !== "stream") return 0;
  const columns = await allColumnNames(db, feed.name);
  let where: string;
  let params: string[];
  if (feed.timeField && columns.includes(feed.timeField)) {
    where = db.dialect.timeBefore(feed.timeField);
    params = [`${keepFrom}T00:00:00.000Z`];
  } else if (!feed.timeField && columns.includes("_SOURCE_FILE")) {
    where = `"_SOURCE_FILE" >= ? AND "_SOURCE_FILE" < ?`;
    params = [`${feed.name}/0000-00-00`, `${feed.name}/${keepFrom}`];
  } else return 0;
  const table = quoteIdent(feed.name);
  if (dryRun) {
    const row = await db.get(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params);
    return Number(row?.n ?? 0);
  }
  const counted = (await db.dialect.tables(db)).includes(LOADER_TABLES);
  // The loader's row count (what /status shows) follows the deletion in the same transaction.
  return await db.transaction(async (tx) => {
    const deleted = (await tx.run(`DELETE FROM ${table} WHERE ${where}`, params)).changes;
    if (counted) await adjustRowCount(tx, feed.name, -deleted);
    return deleted;
  });
}

/** Removes partitions (lake.drop), auditing each; the loader forgets the deleted lake files. */
async function deletePartitions(
  db: Sql,
  root: string,
  partitions: Partition[],
  actor: string,
  target: string,
  now: Date,
  loaded: boolean,
): Promise<{ dropped: Partition[]; skipped: UnsafeEntry[] }> {
  const deleted: string[] = [];
  try {
    return await dropPartitions(root, partitions, async (partition) => {
      deleted.push(partition.relative);
      await audit(db, {
        actor,
        action: "retention.delete_partition",
        target: `${loaded ? "" : `${REJECTED_DIR}/`}${target}/${partition.date}`,
        outcome: "ok",
        detail: { path: partition.path, bytes: partition.bytes },
      }, now);
    });
  } finally {
    // The loader never reads the quarantine, and its bookkeeping keys are FEED/DATE/FILE.
    if (loaded && deleted.length > 0) await forgetLakeFiles(db, deleted);
  }
}
