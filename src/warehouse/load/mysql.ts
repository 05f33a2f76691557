/**
 * The MariaDB/MySQL load engine: the schema step (feed_schema.ts, InnoDB keys and foreign keys)
 * and the apply step over the Warehouse interface. One transaction per batch; rows go in as
 * multi-row `INSERT … ON DUPLICATE KEY UPDATE` statements of up to ROWS_PER_STATEMENT rows.
 *
 * - Inserts and updates are told apart exactly: the keys of a chunk already in the table are
 *   read first (by primary key) in the same transaction.
 * - A chunk the server refuses for a row's content (strict mode: a value that does not fit its
 *   column) is written again row by row, so only the bad rows become rejections; InnoDB rolls
 *   back only the failed statement, the transaction goes on.
 * - New columns are added before the transaction: MySQL commits DDL implicitly, and a column
 *   added by a batch that then fails is harmless (the next load sees it and writes into it).
 */
import { type Feed, recordKey } from "../../config/feeds.ts";
import type { ColumnType } from "../../config/feeds.ts";
import type { Logger } from "../../core/log.ts";
import { type FileState, fileStatesOf, fileStateUpsert } from "../bookkeeping.ts";
import { quoteIdent } from "../db.ts";
import type { Sql, SqlValue, Warehouse } from "../engine.ts";
import { ensureFeedSchema } from "../feed_schema.ts";
import { INFERRED_COLUMN, LOADER_FILES, LOADER_TABLES, RESERVED_COLUMNS } from "../schema.ts";
import { referencingColumns, type TableColumn } from "../schema.ts";
import type { LoadEngine } from "./engine.ts";
import { strategyOf } from "./modes.ts";
import type { Batch, BatchCounts, BatchRow, FeedState } from "./types.ts";

const ROWS_PER_STATEMENT = 500;
const LINEAGE = ["_SOURCE_FILE", "_SOURCE_LINE", "_LOADED_AT"];
/** Server errors about one row's content (strict mode, keys): that row's rejection. */
const ROW_ERRORS = new Set([
  "ER_TRUNCATED_WRONG_VALUE_FOR_FIELD",
  "ER_TRUNCATED_WRONG_VALUE",
  "WARN_DATA_TRUNCATED",
  "ER_WARN_DATA_OUT_OF_RANGE",
  "ER_DATA_TOO_LONG",
  "ER_BAD_NULL_ERROR",
  "ER_NO_REFERENCED_ROW_2",
  "ER_CHECK_CONSTRAINT_VIOLATED",
  "ER_CONSTRAINT_FAILED",
]);

export class MysqlLoadEngine implements LoadEngine {
  readonly label: string;
  readonly #warehouse: Warehouse;
  readonly #feeds: readonly Feed[];
  readonly #log: Logger;

  constructor(warehouse: Warehouse, feeds: readonly Feed[], log: Logger) {
    this.#warehouse = warehouse;
    this.label = warehouse.label;
    this.#feeds = feeds;
    this.#log = log;
  }

  async ensureSchema(feeds: readonly Feed[]): Promise<void> {
    const w = this.#warehouse;
    await ensureFeedSchema(w, feeds);
    for (const feed of feeds) {
      await w.run(
        `INSERT INTO ${LOADER_TABLES} ("FEED", "ROW_COUNT") SELECT ?, COUNT(*) FROM ${
          quoteIdent(feed.name)
        } ON DUPLICATE KEY UPDATE "FEED" = "FEED"`,
        [feed.name],
      );
    }
  }

  async feedState(feed: Feed): Promise<FeedState> {
    const w = this.#warehouse;
    const columns: TableColumn[] = (await w.dialect.columns(w, feed.name))
      .filter((c) => !RESERVED_COLUMNS.has(c.name.toUpperCase()))
      .map((c) => ({ name: c.name, type: columnType(c.type) }));
    const rows = await w.all(`SELECT * FROM ${LOADER_FILES} WHERE "FEED" = ?`, [feed.name]);
    const files = fileStatesOf(rows);
    const count = await w.get(`SELECT "ROW_COUNT" AS n FROM ${LOADER_TABLES} WHERE "FEED" = ?`, [
      feed.name,
    ]);
    return { columns, files, rows: Number(count?.n ?? 0) };
  }

  async apply(batch: Batch): Promise<BatchCounts> {
    const { feed } = batch;
    if (batch.newColumns.length > 0) {
      // One statement for all of them: MySQL commits DDL at once, so it is all or nothing.
      const dialect = this.#warehouse.dialect;
      await this.#warehouse.run(
        `ALTER TABLE ${quoteIdent(feed.name)} ${
          batch.newColumns.map((column) =>
            `ADD COLUMN ${quoteIdent(column.name)} ${dialect.columnType(column.type, false)}`
          ).join(", ")
        }`,
      );
      for (const column of batch.newColumns) {
        this.#log.info("warehouse.column_added", { feed: feed.name, ...column });
      }
    }
    return await this.#warehouse.transaction((tx) => this.#write(tx, batch));
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  async #write(tx: Sql, batch: Batch): Promise<BatchCounts> {
    const { feed } = batch;
    const table = quoteIdent(feed.name);
    const counts: BatchCounts = {
      inserted: 0,
      updated: 0,
      deleted: 0,
      inferred: 0,
      rejections: [],
    };
    for (const file of batch.resets) {
      counts.deleted += (await tx.run(`DELETE FROM ${table} WHERE "_SOURCE_FILE" = ?`, [file]))
        .changes;
    }
    const inferredBy = await this.#placeholders(tx, batch);
    for (const added of inferredBy.values()) counts.inferred += added;

    const upsert = strategyOf(feed).write === "upsert";
    const inferred = (await tx.dialect.columns(tx, feed.name)).some((c) =>
      c.name === INFERRED_COLUMN
    );
    for (let i = 0; i < batch.rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = batch.rows.slice(i, i + ROWS_PER_STATEMENT);
      const existing = upsert ? await this.#existingKeys(tx, feed, batch.columns, chunk) : null;
      const write = (rows: BatchRow[]) =>
        tx.run(this.#insertSql(feed, batch.columns, rows.length, upsert, inferred), [
          ...rows.flatMap((row) => [...row.values, row.file, row.line, batch.loadedAt]),
        ]);
      let written: BatchRow[] = chunk;
      let changes = 0;
      try {
        changes = (await write(chunk)).changes;
      } catch (error) {
        if (!isRowError(error)) throw error;
        written = [];
        for (const row of chunk) {
          try {
            changes += (await write([row])).changes;
            written.push(row);
          } catch (rowError) {
            if (!isRowError(rowError)) throw rowError;
            counts.rejections.push({
              file: row.file,
              line: row.line,
              reason: (rowError as Error).message,
            });
          }
        }
      }
      if (existing) {
        const seen = new Set(existing);
        for (const row of written) {
          const key = rowKey(feed, batch.columns, row);
          if (seen.has(key)) counts.updated++;
          else {
            counts.inserted++;
            seen.add(key);
          }
        }
      } else counts.inserted += changes; // insert-only: duplicates change nothing
    }

    if (batch.last && batch.keep) {
      const removed = await this.#removeKeysNotIn(tx, feed, batch.keep, batch.loadedAt);
      counts.deleted += removed.deleted;
      counts.updated += removed.cleared;
    }
    for (const state of batch.files) await saveFileState(tx, state);
    await addRowCount(tx, feed.name, counts.inserted - counts.deleted);
    for (const [target, added] of inferredBy) await addRowCount(tx, target, added);
    return counts;
  }

  #insertSql(feed: Feed, columns: string[], rows: number, upsert: boolean, inferred: boolean) {
    const names = [...columns, ...LINEAGE];
    const one = `(${[...names.map(() => "?"), ...(inferred ? ["0"] : [])].join(", ")})`;
    const head = `INSERT INTO ${quoteIdent(feed.name)} (${
      [...names, ...(inferred ? [INFERRED_COLUMN] : [])].map(quoteIdent).join(", ")
    }) VALUES ${Array(rows).fill(one).join(", ")}`;
    if (!upsert) {
      const k = quoteIdent(feed.primaryKey[0]);
      return `${head} ON DUPLICATE KEY UPDATE ${k} = ${k}`;
    }
    const set = names.filter((c) => !feed.primaryKey.includes(c))
      .map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`);
    if (inferred) set.push(`${quoteIdent(INFERRED_COLUMN)} = 0`);
    return `${head} ON DUPLICATE KEY UPDATE ${set.join(", ")}`;
  }

  /** Keys (recordKey text) of the chunk's rows already in the table. */
  async #existingKeys(tx: Sql, feed: Feed, columns: string[], rows: BatchRow[]) {
    const at = feed.primaryKey.map((k) => columns.indexOf(k));
    const key = feed.primaryKey.map(quoteIdent).join(", ");
    const tuple = `(${at.map(() => "?").join(", ")})`;
    const found = await tx.all(
      `SELECT ${key} FROM ${quoteIdent(feed.name)} WHERE (${key}) IN (${
        rows.map(() => tuple).join(", ")
      })`,
      rows.flatMap((row) => at.map((i) => row.values[i] as SqlValue)),
    );
    return found.map((row) => recordKey(feed, row));
  }

  /** Placeholder rows (`_INFERRED = 1`) for foreign-key values not in their target yet. */
  async #placeholders(tx: Sql, batch: Batch): Promise<Map<string, number>> {
    const added = new Map<string, number>();
    for (const fk of batch.feed.foreignKeys) {
      const target = this.#feeds.find((f) => f.name === fk.references)!;
      const index = batch.columns.indexOf(fk.column);
      if (index < 0) continue;
      const ids = [...new Set(batch.rows.map((r) => r.values[index]).filter((v) => v !== null))];
      const pk = quoteIdent(target.primaryKey[0]);
      for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
        const chunk = ids.slice(i, i + ROWS_PER_STATEMENT);
        const { changes } = await tx.run(
          `INSERT INTO ${quoteIdent(target.name)} (${pk}, "_INFERRED", "_LOADED_AT") VALUES ${
            chunk.map(() => "(?, 1, ?)").join(", ")
          } ON DUPLICATE KEY UPDATE ${pk} = ${pk}`,
          chunk.flatMap((id) => [id as SqlValue, batch.loadedAt]),
        );
        added.set(target.name, (added.get(target.name) ?? 0) + changes);
      }
    }
    return added;
  }

  /** Snapshot end: keys gone from it are deleted, or made placeholders while still referenced. */
  async #removeKeysNotIn(tx: Sql, feed: Feed, keep: Set<string>, loadedAt: string) {
    const table = quoteIdent(feed.name);
    const columns = await tx.dialect.columns(tx, feed.name);
    const inferred = columns.some((c) => c.name === INFERRED_COLUMN);
    const key = feed.primaryKey.map(quoteIdent);
    const match = key.map((k) => `${k} = ?`).join(" AND ");
    const others = columns.map((c) => c.name)
      .filter((c) => !feed.primaryKey.includes(c) && c !== INFERRED_COLUMN && c !== "_LOADED_AT");
    const counts = { deleted: 0, cleared: 0 };
    for (const row of await tx.all(`SELECT ${key.join(", ")} FROM ${table}`)) {
      if (keep.has(recordKey(feed, row))) continue;
      const values = feed.primaryKey.map((k) => row[k]);
      let referenced = false;
      if (inferred) {
        for (const ref of referencingColumns(feed, this.#feeds)) {
          const hit = await tx.get(
            `SELECT 1 AS x FROM ${quoteIdent(ref.table)} WHERE ${
              quoteIdent(ref.column)
            } = ? LIMIT 1`,
            [values[0]],
          );
          if (hit) referenced = true;
        }
      }
      if (referenced) {
        counts.cleared += (await tx.run(
          `UPDATE ${table} SET ${
            others.map((c) => `${quoteIdent(c)} = NULL`).join(", ")
          }, "_LOADED_AT" = ?, ${quoteIdent(INFERRED_COLUMN)} = 1 WHERE ${match} AND ${
            quoteIdent(INFERRED_COLUMN)
          } = 0`,
          [loadedAt, ...values],
        )).changes;
      } else {
        counts.deleted += (await tx.run(`DELETE FROM ${table} WHERE ${match}`, values)).changes;
      }
    }
    return counts;
  }
}

function rowKey(feed: Feed, columns: string[], row: BatchRow): string {
  return recordKey(
    feed,
    Object.fromEntries(feed.primaryKey.map((k) => [k, row.values[columns.indexOf(k)]])),
  );
}

function columnType(mysqlType: string): ColumnType {
  if (["bigint", "int", "integer", "smallint", "tinyint", "mediumint"].includes(mysqlType)) {
    return "INTEGER";
  }
  if (["double", "float", "decimal", "real"].includes(mysqlType)) return "REAL";
  return "TEXT";
}

function isRowError(error: unknown): boolean {
  return ROW_ERRORS.has(String((error as { code?: unknown })?.code));
}

async function saveFileState(sql: Sql, state: FileState): Promise<void> {
  await sql.run(...fileStateUpsert(sql.dialect, state));
}

async function addRowCount(sql: Sql, feed: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await sql.run(`UPDATE ${LOADER_TABLES} SET "ROW_COUNT" = "ROW_COUNT" + ? WHERE "FEED" = ?`, [
    delta,
    feed,
  ]);
}
