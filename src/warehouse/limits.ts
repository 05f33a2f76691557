/**
 * What may still become a column of a feed table, checked before any DDL runs: a field the
 * engine could not add (a name equal to another but for case, a name longer than 64 characters,
 * one column too many, a row too wide for InnoDB) is its line's rejection, never a failed batch.
 * MariaDB commits DDL at once, so a refused ALTER must never be tried: nothing is half-added.
 */
import { type ColumnType, MAX_SQL_NAME } from "../config/feeds.ts";

/** The longest column or table name, on both engines (MariaDB's limit), so a lake loads alike. */
export const MAX_IDENTIFIER = MAX_SQL_NAME;

/** Worst-case in-row bytes of a record, as InnoDB counts them when a column is added. */
export interface RowBytes {
  /** InnoDB's limit for 16 KiB pages (innodb_strict_mode refuses a wider row definition). */
  limit: number;
  /** Record header, system columns and margin. */
  base: number;
  /** Per column, null bit included; measured on MariaDB 10.11 and rounded up. */
  key: number;
  text: number;
  number: number;
}

export interface ColumnLimits {
  /** Most columns in one table, lineage and `_INFERRED` included. */
  columns: number;
  rowBytes?: RowBytes;
}

/** Columns the warehouse adds to every feed table (lineage, and `_INFERRED` where referenced). */
const OWN_COLUMNS: { type: ColumnType; key: boolean }[] = [
  { type: "TEXT", key: false },
  { type: "INTEGER", key: false },
  { type: "TEXT", key: false },
  { type: "INTEGER", key: false },
];

/** A table's columns as far as the limits go: how many, and how wide a row may get. */
export class ColumnRoom {
  readonly #limits: ColumnLimits;
  #count: number;
  #bytes: number;

  constructor(
    limits: ColumnLimits,
    columns: readonly { name: string; type: ColumnType }[],
    keys: ReadonlySet<string>,
  ) {
    this.#limits = limits;
    this.#count = 0;
    this.#bytes = limits.rowBytes?.base ?? 0;
    for (const own of OWN_COLUMNS) this.#add(own.type, own.key);
    for (const column of columns) this.#add(column.type, keys.has(column.name));
  }

  /** Why `added` (new, non-key columns) cannot join the table, or undefined when they can. */
  problem(added: readonly { name: string; type: ColumnType }[]): string | undefined {
    const count = this.#count + added.length;
    if (count > this.#limits.columns) {
      return `field ${added.at(-1)!.name} cannot be a column: the table would have more than ` +
        `${this.#limits.columns} columns, the warehouse's limit`;
    }
    const row = this.#limits.rowBytes;
    if (row) {
      const bytes = added.reduce((sum, c) => sum + cost(row, c.type, false), this.#bytes);
      if (bytes > row.limit) {
        return `field ${added.at(-1)!.name} cannot be a column: the row would be wider than ` +
          `the warehouse allows (${row.limit} bytes in a row, InnoDB)`;
      }
    }
    return undefined;
  }

  /** Records columns that were admitted. */
  admit(added: readonly { type: ColumnType }[]): void {
    for (const column of added) this.#add(column.type, false);
  }

  #add(type: ColumnType, key: boolean): void {
    this.#count++;
    if (this.#limits.rowBytes) this.#bytes += cost(this.#limits.rowBytes, type, key);
  }
}

function cost(row: RowBytes, type: ColumnType, key: boolean): number {
  if (type !== "TEXT") return row.number;
  return key ? row.key : row.text;
}

/** Why `name` cannot be a new column beside `existing` (upper-cased names), or undefined. */
export function columnNameProblem(
  name: string,
  existingUpper: ReadonlySet<string>,
): string | undefined {
  if (name.length > MAX_IDENTIFIER) {
    return `field ${name.slice(0, 20)}… cannot be a column: its name is longer than ` +
      `${MAX_IDENTIFIER} characters`;
  }
  if (existingUpper.has(name.toUpperCase())) {
    return `field ${name} clashes with a column or field of another case (column names ignore case)`;
  }
  return undefined;
}

/**
 * A name for an index or a constraint made of `parts` (joined by `__`), within the 64
 * characters MariaDB allows: a longer one keeps its start and ends with a hash of the whole.
 */
export function derivedName(...parts: string[]): string {
  const whole = parts.join("__");
  if (whole.length <= MAX_IDENTIFIER) return whole;
  return `${whole.slice(0, MAX_IDENTIFIER - 17)}_${fnv1a(whole, 0x811c9dc5)}${
    fnv1a(whole, 0x01000193)
  }`;
}

/** FNV-1a over UTF-16 units, 8 hex digits: a stable short tag, not a security hash. */
function fnv1a(text: string, seed: number): string {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
