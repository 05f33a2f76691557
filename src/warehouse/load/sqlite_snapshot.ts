/**
 * The end of a snapshot load on SQLite (inside its last batch's transaction): rows whose key left
 * the snapshot are deleted, except members still referenced by a foreign key, which become bare
 * placeholders again (`_INFERRED = 1`, attributes NULL).
 */
import { type Feed, recordKey } from "../../config/feeds.ts";
import { type Database, quoteIdent } from "../db.ts";
import {
  hasInferredColumn,
  INFERRED_COLUMN,
  LINEAGE_COLUMNS,
  referencingColumns,
  tableColumns,
} from "../schema.ts";

export function removeKeysNotIn(
  db: Database,
  feed: Feed,
  feeds: readonly Feed[],
  keep: Set<string>,
  loadedAt: string,
): { deleted: number; cleared: number } {
  const table = quoteIdent(feed.name);
  const key = feed.primaryKey.map(quoteIdent).join(", ");
  const inferred = hasInferredColumn(db, feed.name);
  const rows = db.prepare(`SELECT rowid AS r, ${key} FROM ${table}`).all();
  const remove = db.prepare(`DELETE FROM ${table} WHERE rowid = ?`);
  const referencedBy = inferred
    ? referencingColumns(feed, feeds).map(({ table, column }) =>
      db.prepare(`SELECT 1 FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} = ? LIMIT 1`)
    )
    : [];
  const others = tableColumns(db, feed.name).map((c) => c.name)
    .filter((c) => !feed.primaryKey.includes(c));
  const lineage = LINEAGE_COLUMNS.filter((c) => c !== "_LOADED_AT");
  const cleared = [...others, ...lineage].map((c) => `${quoteIdent(c)} = NULL`);
  const toPlaceholder = inferred
    ? db.prepare(
      `UPDATE ${table} SET ${cleared.join(", ")}, "_LOADED_AT" = ?, ${
        quoteIdent(INFERRED_COLUMN)
      } = 1 WHERE rowid = ? AND ${quoteIdent(INFERRED_COLUMN)} = 0`,
    )
    : undefined;
  const counts = { deleted: 0, cleared: 0 };
  for (const row of rows) {
    if (keep.has(recordKey(feed, row))) continue;
    const id = row[feed.primaryKey[0]];
    if (toPlaceholder && referencedBy.some((stmt) => stmt.get(id) !== undefined)) {
      counts.cleared += Number(toPlaceholder.run(loadedAt, row.r as number).changes);
    } else {
      counts.deleted += Number(remove.run(row.r as number).changes);
    }
  }
  return counts;
}
