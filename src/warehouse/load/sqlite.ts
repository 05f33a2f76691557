/**
 * The SQLite load engine: the schema step and the apply step over node:sqlite. `apply` runs
 * from BEGIN to COMMIT without an await, so the write lock is held only while the batch is
 * written (milliseconds) and the other connections of the process (the API's) never wait long.
 *
 * Rows are written with `INSERT … ON CONFLICT DO NOTHING`, then, when the key was there, an
 * UPDATE by key: inserts and updates are told apart exactly (whatever the key's type: an INTEGER
 * key is SQLite's rowid, so rowid order says nothing), and a new row costs one statement.
 */
import type { Feed } from "../../config/feeds.ts";
import type { Logger } from "../../core/log.ts";
import {
  addRowCountSync,
  ensureRowCountsSync,
  readFileStates,
  rowCountSync,
  saveFileState,
} from "../bookkeeping.ts";
import { type Database, quoteIdent } from "../db.ts";
import type { Value } from "../records.ts";
import {
  addColumn,
  createForeignKeyIndex,
  ensureFeedTables,
  foreignKeyIndex,
  hasInferredColumn,
  tableColumns,
} from "../schema.ts";
import type { LoadEngine } from "./engine.ts";
import { strategyOf } from "./modes.ts";
import { removeKeysNotIn } from "./sqlite_snapshot.ts";
import { asStorageError, isRowError } from "./storage.ts";
import type { Batch, BatchCounts, FeedState, LineRejection } from "./types.ts";

/** SQLite page cache during a load: 16 MiB (negative = KiB), well inside the 200 MB budget. */
const LOAD_CACHE_SIZE = -16384;
const KEY_CACHE_LIMIT = 100_000;

type Statement = ReturnType<Database["prepare"]>;

interface Writer {
  columns: string;
  insert: Statement;
  /** Upsert feeds: the UPDATE by key, with the positions of the values it sets and matches. */
  update?: { statement: Statement; set: number[]; keys: number[] };
}

export class SqliteLoadEngine implements LoadEngine {
  readonly label: string;
  readonly #db: Database;
  readonly #feeds: readonly Feed[];
  readonly #log: Logger;
  readonly #cacheSize: number;
  readonly #writers = new Map<string, Writer>();
  /** Foreign-key values known to exist in their target, per feed and target table. */
  readonly #known = new Map<string, Set<Value>>();

  constructor(db: Database, label: string, feeds: readonly Feed[], log: Logger) {
    this.#db = db;
    this.label = label;
    this.#feeds = feeds;
    this.#log = log;
    // A bigger page cache for the load: index pages of big tables stay in memory between batches.
    this.#cacheSize = Number(db.prepare("PRAGMA cache_size").get()?.cache_size ?? -2000);
    db.exec(`PRAGMA cache_size = ${LOAD_CACHE_SIZE}`);
  }

  ensureSchema(feeds: readonly Feed[]): Promise<void> {
    try {
      ensureFeedTables(this.#db, feeds);
      ensureRowCountsSync(this.#db, feeds.map((f) => f.name));
    } catch (error) {
      throw asStorageError(error, `Cannot prepare the warehouse ${this.label}`);
    }
    return Promise.resolve();
  }

  feedState(feed: Feed): Promise<FeedState> {
    return Promise.resolve({
      columns: tableColumns(this.#db, feed.name),
      files: readFileStates(this.#db, feed.name),
      rows: rowCountSync(this.#db, feed.name),
    });
  }

  apply(batch: Batch): Promise<BatchCounts> {
    const db = this.#db;
    db.exec("BEGIN IMMEDIATE");
    try {
      const counts = this.#write(batch);
      db.exec("COMMIT");
      return Promise.resolve(counts);
    } catch (error) {
      // SQLite may already have rolled back (disk full): only roll back what is still open.
      if (db.isTransaction) {
        try {
          db.exec("ROLLBACK");
        } catch { /* the original error says more */ }
      }
      this.#known.clear(); // placeholders of this batch are gone with it
      this.#writers.clear();
      throw asStorageError(error, `Cannot load ${batch.feed.name} into ${this.label}`);
    }
  }

  finish(): Promise<void> {
    this.#db.exec(`PRAGMA cache_size = ${this.#cacheSize}`);
    return Promise.resolve();
  }

  /** The whole batch, inside the open transaction. */
  #write(batch: Batch): BatchCounts {
    const db = this.#db;
    const { feed } = batch;
    const table = quoteIdent(feed.name);
    const counts: BatchCounts = {
      inserted: 0,
      updated: 0,
      deleted: 0,
      inferred: 0,
      rejections: [],
    };
    for (const column of batch.newColumns) {
      addColumn(db, feed.name, column.name, column.type);
      this.#log.info("warehouse.column_added", { feed: feed.name, ...column });
    }
    if (batch.newColumns.length > 0) this.#writers.delete(feed.name);
    if (batch.bulk && batch.first) {
      for (const fk of feed.foreignKeys) {
        db.exec(`DROP INDEX IF EXISTS ${quoteIdent(foreignKeyIndex(feed.name, fk.column))}`);
      }
    }
    for (const file of batch.resets) {
      const { changes } = db.prepare(`DELETE FROM ${table} WHERE _SOURCE_FILE = ?`).run(file);
      counts.deleted += Number(changes);
    }

    const writer = this.#writer(feed, batch.columns);
    const targets = this.#targets(feed, batch.columns);
    const inferredBy = new Map<string, number>();
    for (const row of batch.rows) {
      const values = row.values;
      for (const target of targets) {
        const id = values[target.index];
        if (id === null || target.known.has(id)) continue;
        if (target.known.size >= KEY_CACHE_LIMIT) target.known.clear();
        const added = Number(target.insert.run(id, batch.loadedAt).changes);
        if (added) inferredBy.set(target.table, (inferredBy.get(target.table) ?? 0) + added);
        counts.inferred += added;
        target.known.add(id);
      }
      try {
        if (writer.insert.run(...values, row.file, row.line, batch.loadedAt).changes) {
          counts.inserted++;
        } else if (writer.update) {
          const { statement, set, keys } = writer.update;
          statement.run(
            ...set.map((i) => values[i]),
            row.file,
            row.line,
            batch.loadedAt,
            ...keys.map((i) => values[i]),
          );
          counts.updated++;
        }
      } catch (error) {
        if (!isRowError(error)) throw error;
        counts.rejections.push(rejection(row, (error as Error).message));
      }
    }

    if (batch.last && batch.keep) {
      const removed = removeKeysNotIn(db, feed, this.#feeds, batch.keep, batch.loadedAt);
      counts.deleted += removed.deleted;
      counts.updated += removed.cleared;
    }
    if (batch.bulk && batch.last) {
      for (const fk of feed.foreignKeys) createForeignKeyIndex(db, feed.name, fk.column);
    }
    for (const state of batch.files) saveFileState(db, state);
    addRowCountSync(db, feed.name, counts.inserted - counts.deleted);
    for (const [target, added] of inferredBy) addRowCountSync(db, target, added);
    return counts;
  }

  /** The write statements for the table's current columns (cached until a column is added). */
  #writer(feed: Feed, columns: string[]): Writer {
    const key = columns.join(",");
    const cached = this.#writers.get(feed.name);
    if (cached?.columns === key) return cached;
    const db = this.#db;
    const table = quoteIdent(feed.name);
    const inferred = hasInferredColumn(db, feed.name);
    const names = [...columns, "_SOURCE_FILE", "_SOURCE_LINE", "_LOADED_AT"].map(quoteIdent);
    const insertNames = inferred ? [...names, '"_INFERRED"'] : names;
    const values = [...names.map(() => "?"), ...(inferred ? ["0"] : [])];
    const insert = db.prepare(
      `INSERT INTO ${table} (${insertNames.join(", ")}) VALUES (${values.join(", ")})
       ON CONFLICT DO NOTHING`,
    );
    let update: Writer["update"];
    if (strategyOf(feed).write === "upsert") {
      const keys = feed.primaryKey;
      const others = columns.map((name, i) => ({ name, i })).filter((c) => !keys.includes(c.name));
      const set = [
        ...others.map((c) => c.name),
        "_SOURCE_FILE",
        "_SOURCE_LINE",
        "_LOADED_AT",
      ].map((c) => `${quoteIdent(c)} = ?`);
      if (inferred) set.push('"_INFERRED" = 0');
      const where = keys.map((k) => `${quoteIdent(k)} = ?`).join(" AND ");
      update = {
        statement: db.prepare(`UPDATE ${table} SET ${set.join(", ")} WHERE ${where}`),
        set: others.map((c) => c.i),
        keys: keys.map((k) => columns.indexOf(k)),
      };
    }
    const writer = { columns: key, insert, update };
    this.#writers.set(feed.name, writer);
    return writer;
  }

  /** Placeholder inserts for the feed's foreign keys, with the values known to exist. */
  #targets(feed: Feed, columns: string[]) {
    return feed.foreignKeys.map((fk) => {
      const target = this.#feeds.find((f) => f.name === fk.references)!;
      const cacheKey = `${feed.name}>${target.name}`;
      let known = this.#known.get(cacheKey);
      if (!known) this.#known.set(cacheKey, known = new Set());
      return {
        table: target.name,
        index: columns.indexOf(fk.column),
        known,
        insert: this.#db.prepare(
          `INSERT INTO ${quoteIdent(target.name)} (${quoteIdent(target.primaryKey[0])},
           "_INFERRED", "_LOADED_AT") VALUES (?, 1, ?) ON CONFLICT DO NOTHING`,
        ),
      };
    });
  }
}

function rejection(row: { file: string; line: number }, reason: string): LineRejection {
  return { file: row.file, line: row.line, reason };
}
