/**
 * The loader's memory of the lake (table _LOADER_FILES): for each file, how many bytes and lines
 * were loaded and what the file looked like then (size, mtime, a hash of the read prefix). Paths
 * are stored relative to the lake root (`FEED/YYYY-MM-DD/FEED_YYYY-MM-DD.jsonl`), the same text as
 * the rows' `_SOURCE_FILE`, so moving the lake folder does not trigger a reload.
 */
import type { Database } from "./db.ts";
import type { Sql } from "./engine.ts";
import { LOADER_FILES } from "./schema.ts";

export interface FileState {
  path: string;
  feed: string;
  size: number;
  mtime: number | null;
  lines: number;
  bytesRead: number;
  headHash: string;
  loadedAt: string;
}

/** `FEED/DATE/FILE` from a full or relative lake path. */
export function lakeRelative(path: string): string {
  return path.split("/").filter(Boolean).slice(-3).join("/");
}

export function readFileStates(db: Database, feed: string): Map<string, FileState> {
  const rows = db.prepare(`SELECT * FROM ${LOADER_FILES} WHERE FEED = ?`).all(feed);
  return new Map(rows.map((row) => {
    const state: FileState = {
      path: String(row.PATH),
      feed: String(row.FEED),
      size: Number(row.SIZE),
      mtime: row.MTIME === null ? null : Number(row.MTIME),
      lines: Number(row.LINES),
      bytesRead: Number(row.BYTES_READ),
      headHash: String(row.HEAD_HASH),
      loadedAt: String(row.LOADED_AT),
    };
    return [state.path, state];
  }));
}

export function saveFileState(db: Database, state: FileState): void {
  db.prepare(
    `INSERT INTO ${LOADER_FILES} (PATH, FEED, SIZE, MTIME, LINES, BYTES_READ, HEAD_HASH, LOADED_AT)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (PATH) DO UPDATE SET FEED = excluded.FEED, SIZE = excluded.SIZE,
       MTIME = excluded.MTIME, LINES = excluded.LINES, BYTES_READ = excluded.BYTES_READ,
       HEAD_HASH = excluded.HEAD_HASH, LOADED_AT = excluded.LOADED_AT`,
  ).run(
    state.path,
    state.feed,
    state.size,
    state.mtime,
    state.lines,
    state.bytesRead,
    state.headHash,
    state.loadedAt,
  );
}

/**
 * Forgets lake files that no longer exist (retention deleted them), full or lake-relative paths.
 * Their warehouse rows stay: removing rows is retention's decision, by event time. Returns how
 * many bookkeeping rows went.
 */
export async function forgetLakeFiles(sql: Sql, paths: string[]): Promise<number> {
  if (!(await sql.dialect.tables(sql)).includes(LOADER_FILES)) return 0;
  let removed = 0;
  for (const path of paths) {
    removed += (await sql.run(`DELETE FROM ${LOADER_FILES} WHERE PATH = ?`, [lakeRelative(path)]))
      .changes;
  }
  return removed;
}
