/**
 * Erasure of one person (DESIGN.md, "Governance"). Export, stable for the service:
 *
 * - `eraseUser({ config, db, log, userId, actor?, now? }) → ErasureReport`
 *
 * The person is found by their pseudonym: USER_ID_HASHED = HMAC(ANONYMIZATION_KEY, raw id), so
 * the key is required (ConfigError without it). Then:
 * 1. every lake file (`*.jsonl`, feeds and `_rejected/`) holding the pseudonym is rewritten
 *    without the lines that contain it (temp file + fsync + rename; files without it are not
 *    touched). Quarantine lines hold the raw bytes of a derived record, so the substring match
 *    catches them too; a 64-hex HMAC does not occur by chance;
 * 2. in one transaction, rows with that USER_ID_HASHED are deleted from every warehouse table
 *    that has the column, facts before USERS (foreign keys), and the loader forgets the
 *    rewritten files so it does not trust offsets into files that shrank.
 * Lake first: once it is done, no load can bring the person back from the lake.
 * The audit row names the person by the first 12 hex digits of the pseudonym only: enough to
 * match a request, without keeping the raw id or the whole pseudonym around.
 * Someone who is not there: all counts zero, success.
 */
import type { Config } from "../config/config.ts";
import { inDependencyOrder } from "../config/feeds.ts";
import { ConfigError, ConflictError, ValidationError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { replaceAtomically } from "../lake/durable.ts";
import { REJECTED_DIR } from "../lake/layout.ts";
import { hmacHex, importHmacKey } from "../processor/pseudonymize.ts";
import { type Database, quoteIdent } from "../warehouse/db.ts";
import { forgetLakeFiles } from "../warehouse/bookkeeping.ts";
import { withLakeLock } from "../lake/lock.ts";
import { acquireLoadLock } from "../warehouse/lock.ts";
import { tableColumns } from "../warehouse/query.ts";
import { audit } from "./audit.ts";
import { lakeFiles } from "./lake_files.ts";
import { LOAD_LOCK_WAIT_MS } from "./retention.ts";

export const USER_COLUMN = "USER_ID_HASHED";

export interface EraseOptions {
  config: Config;
  db: Database;
  log: Logger;
  /** The raw user id (e.g. U00042), as the producer and the person know it. */
  userId: string;
  actor?: string;
  now?: Date;
}

export interface ErasureReport {
  /** First 12 hex digits of the pseudonym (what the audit log keeps). */
  subject: string;
  /** Lake files rewritten and lines removed from them. */
  lake: { files: number; lines: number; byFile: { path: string; lines: number }[] };
  /** Warehouse rows deleted per table (only tables with a USER_ID_HASHED column). */
  rows: Record<string, number>;
  totalRows: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How often a file that grew while we rewrote it is read again before giving up. */
const MAX_ATTEMPTS = 5;

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
  const { config, db, log } = options;
  const now = options.now ?? new Date();
  const userId = options.userId?.trim();
  if (!userId) throw new ValidationError("erase needs a user id (--user ID)");
  if (!config.anonymizationKey) {
    throw new ConfigError(
      "ANONYMIZATION_KEY is not set: erasure finds a person by their pseudonym, which needs the key",
    );
  }
  const hashed = await hmacHex(await importHmacKey(config.anonymizationKey), userId);
  const subject = hashed.slice(0, 12);

  // The lake lock keeps a running consumer (in this or another process) from appending to a
  // file between our read of it and our rename over it.
  const byFile: { path: string; lines: number }[] = [];
  await withLakeLock(config.dataLakeDir, async () => {
    for await (const path of lakeFiles(config.dataLakeDir)) {
      const lines = await removeLinesContaining(path, hashed);
      if (lines > 0) byFile.push({ path, lines });
    }
  });

  const rows: Record<string, number> = {};
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const table of tablesInDeleteOrder(db, config)) {
      const deleted = db.prepare(
        `DELETE FROM ${quoteIdent(table)} WHERE ${quoteIdent(USER_COLUMN)} = ?`,
      ).run(hashed).changes;
      rows[table] = Number(deleted);
    }
    // Rewritten files shrank: the loader must not trust its offsets into them. (It never reads
    // the quarantine, whose paths would otherwise alias the feed's own in its bookkeeping.)
    const quarantine = `${config.dataLakeDir.replace(/\/+$/, "")}/${REJECTED_DIR}/`;
    const loaded = byFile.map((f) => f.path).filter((p) => !p.startsWith(quarantine));
    if (loaded.length > 0) forgetLakeFiles(db, loaded);
    const report: ErasureReport = {
      subject,
      lake: { files: byFile.length, lines: byFile.reduce((s, f) => s + f.lines, 0), byFile },
      rows,
      totalRows: Object.values(rows).reduce((s, n) => s + n, 0),
    };
    audit(db, {
      actor: options.actor ?? "erasure",
      action: "erasure.run",
      target: `user:${subject}`,
      outcome: "ok",
      detail: {
        lakeFiles: report.lake.files,
        lakeLines: report.lake.lines,
        rows: report.rows,
        totalRows: report.totalRows,
      },
    }, now);
    db.exec("COMMIT");
    log.info("erasure.done", {
      subject,
      lakeFiles: report.lake.files,
      lakeLines: report.lake.lines,
      rows: report.totalRows,
    });
    return report;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** Tables with a USER_ID_HASHED column: non-feed tables, then feeds dependents-first. */
function tablesInDeleteOrder(db: Database, config: Config): string[] {
  const all = (db.prepare(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  ).all() as { name: string }[]).map((r) => r.name)
    .filter((name) => tableColumns(db, name).includes(USER_COLUMN));
  const feedOrder = inDependencyOrder(config.feeds).map((f) => f.name).reverse();
  const others = all.filter((name) => !feedOrder.includes(name));
  return [...others, ...feedOrder.filter((name) => all.includes(name))];
}

/**
 * Rewrites `path` without the lines containing `needle`; returns how many went. If the file
 * grows while we work (the consumer appends), it is read again so no new line is lost.
 */
async function removeLinesContaining(path: string, needle: string): Promise<number> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const bytes = await Deno.readFile(path);
    const text = decoder.decode(bytes);
    if (!text.includes(needle)) return 0;
    const lines = text.split("\n");
    const kept = lines.filter((line) => !line.includes(needle));
    const removed = lines.length - kept.length;
    const size = (await Deno.stat(path)).size;
    if (size !== bytes.length) continue; // appended meanwhile: start over with the new content
    await replaceAtomically(path, encoder.encode(kept.join("\n")));
    return removed;
  }
  throw new ConflictError(
    `Cannot erase from ${path}: the file kept changing; stop the consumer and run erase again`,
  );
}
