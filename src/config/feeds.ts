/**
 * The one validation every feed declaration goes through (settings.ts and FEEDS_FILE alike).
 * Feed names are also lake folders and warehouse tables, so they are held to a strict, path- and
 * SQL-safe alphabet. The Feed shapes themselves live in contract/feed.ts.
 */
import { feedNameProblem, fieldNameProblem } from "../contract/names.ts";
import {
  type ColumnType,
  type Feed,
  FEED_FORMATS,
  type FeedFormat,
  type FeedKind,
  type ForeignKey,
  type LakeMode,
} from "../contract/feed.ts";
import { ConfigError } from "../core/errors.ts";

export { FEED_NAME, FIELD_NAME } from "../contract/names.ts";
export { recordKey } from "../contract/record.ts";

export type {
  ColumnType,
  Feed,
  FeedDeclaration,
  FeedFormat,
  FeedKind,
  ForeignKey,
  LakeMode,
} from "../contract/feed.ts";
export { FEED_FORMATS } from "../contract/feed.ts";

const MODE_OF_KIND: Record<FeedKind, LakeMode> = {
  stream: "append",
  table: "overwrite",
  static: "ignore",
};

/** The longest table or column name, on both engines (MariaDB's identifier limit). */
export const MAX_SQL_NAME = 64;

/** What Kafka itself allows in a topic name (we refuse "." and ".." on top). */
export const KAFKA_TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

const COLUMN_TYPES: ReadonlySet<string> = new Set(["TEXT", "INTEGER", "REAL"]);
const KINDS: ReadonlySet<string> = new Set(["stream", "table", "static"]);

/**
 * Throws a ConfigError naming the feed and the field unless `name` is a safe feed name that is
 * none of the warehouse's own tables.
 */
export function assertFeedName(name: unknown, where: string): asserts name is string {
  const problem = typeof name === "string" ? feedNameProblem(name) : "is not a valid feed name";
  if (problem) throw new ConfigError(`${where}: name ${JSON.stringify(name)} ${problem}`);
}

/** Validates one declaration (from code or JSON) and derives its lake mode. */
export function validateFeed(input: unknown, where: string): Feed {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ConfigError(`${where}: a feed must be an object`);
  }
  const raw = input as Record<string, unknown>;
  assertFeedName(raw.name, where);
  const name = raw.name;
  const at = `${where} (feed ${name})`;

  if (typeof raw.kind !== "string" || !KINDS.has(raw.kind)) {
    throw new ConfigError(
      `${at}: kind must be stream, table or static, got ${JSON.stringify(raw.kind)}`,
    );
  }
  const kind = raw.kind as FeedKind;

  if (!Array.isArray(raw.primaryKey) || raw.primaryKey.length === 0) {
    throw new ConfigError(`${at}: primaryKey must be a non-empty list of field names`);
  }
  const primaryKey = raw.primaryKey.map((field, i) => fieldName(field, `${at}: primaryKey[${i}]`));

  let timeField: string | undefined;
  if (raw.timeField !== undefined) timeField = fieldName(raw.timeField, `${at}: timeField`);

  const foreignKeys: ForeignKey[] = [];
  if (raw.foreignKeys !== undefined) {
    if (!Array.isArray(raw.foreignKeys)) throw new ConfigError(`${at}: foreignKeys must be a list`);
    raw.foreignKeys.forEach((fk, i) => {
      const f = fk as Record<string, unknown>;
      if (typeof fk !== "object" || fk === null) {
        throw new ConfigError(`${at}: foreignKeys[${i}] must be an object`);
      }
      const column = fieldName(f.column, `${at}: foreignKeys[${i}].column`);
      assertFeedName(f.references, `${at}: foreignKeys[${i}].references`);
      foreignKeys.push({ column, references: f.references });
    });
  }

  let retentionDays: number | undefined;
  if (raw.retentionDays !== undefined) {
    if (!Number.isInteger(raw.retentionDays) || (raw.retentionDays as number) < 1) {
      throw new ConfigError(`${at}: retentionDays must be a whole number of days >= 1`);
    }
    retentionDays = raw.retentionDays as number;
  }

  const columns: Record<string, ColumnType> = {};
  if (raw.columns !== undefined) {
    if (typeof raw.columns !== "object" || raw.columns === null || Array.isArray(raw.columns)) {
      throw new ConfigError(
        `${at}: columns must be an object of field name to TEXT, INTEGER or REAL`,
      );
    }
    for (const [column, type] of Object.entries(raw.columns)) {
      fieldName(column, `${at}: columns`);
      if (typeof type !== "string" || !COLUMN_TYPES.has(type)) {
        throw new ConfigError(
          `${at}: column ${column} has type ${JSON.stringify(type)}; use TEXT, INTEGER or REAL`,
        );
      }
      columns[column] = type as ColumnType;
    }
  }

  assertSqlNames(at, name, [
    ...primaryKey,
    ...(timeField ? [timeField] : []),
    ...foreignKeys.map((fk) => fk.column),
    ...Object.keys(columns),
  ]);

  let format: FeedFormat | undefined;
  if (raw.format !== undefined) {
    if (typeof raw.format !== "string" || !FEED_FORMATS.includes(raw.format as FeedFormat)) {
      throw new ConfigError(
        `${at}: format must be one of ${FEED_FORMATS.join(", ")}, got ${
          JSON.stringify(raw.format)
        }`,
      );
    }
    format = raw.format as FeedFormat;
  }

  for (const known of Object.keys(raw)) {
    if (
      ![
        "name",
        "kind",
        "primaryKey",
        "timeField",
        "foreignKeys",
        "retentionDays",
        "columns",
        "format",
      ].includes(known)
    ) {
      throw new ConfigError(`${at}: unknown field ${JSON.stringify(known)}`);
    }
  }

  return {
    name,
    kind,
    mode: MODE_OF_KIND[kind],
    primaryKey,
    timeField,
    foreignKeys,
    retentionDays,
    columns,
    ...(format && format !== "json" ? { format } : {}),
  };
}

/** Checks references between feeds: every foreign key names a declared feed. */
export function validateFeedSet(feeds: readonly Feed[]): void {
  const names = new Set(feeds.map((f) => f.name));
  for (const feed of feeds) {
    for (const fk of feed.foreignKeys) {
      if (!names.has(fk.references)) {
        throw new ConfigError(
          `feed ${feed.name}: foreign key ${fk.column} references unknown feed ${fk.references}`,
        );
      }
    }
  }
}

/** Feeds ordered so that every feed comes after the feeds its foreign keys reference. */
export function inDependencyOrder(feeds: readonly Feed[]): Feed[] {
  const byName = new Map(feeds.map((f) => [f.name, f]));
  const ordered: Feed[] = [];
  const seen = new Set<string>();
  const visit = (feed: Feed, path: string[]) => {
    if (seen.has(feed.name)) return;
    if (path.includes(feed.name)) {
      throw new ConfigError(
        `feeds: foreign keys form a cycle: ${[...path, feed.name].join(" → ")}`,
      );
    }
    for (const fk of feed.foreignKeys) {
      const target = byName.get(fk.references);
      if (target && target.name !== feed.name) visit(target, [...path, feed.name]);
    }
    seen.add(feed.name);
    ordered.push(feed);
  };
  for (const feed of feeds) visit(feed, []);
  return ordered;
}

/**
 * The feed becomes a table and its fields columns on either engine: names of at most 64
 * characters, and no two equal but for case (SQL names ignore case).
 */
function assertSqlNames(at: string, feed: string, fields: readonly string[]): void {
  if (feed.length > MAX_SQL_NAME) {
    throw new ConfigError(`${at}: the name is longer than ${MAX_SQL_NAME} characters`);
  }
  const seen = new Map<string, string>();
  for (const field of fields) {
    if (field.length > MAX_SQL_NAME) {
      throw new ConfigError(
        `${at}: field ${
          JSON.stringify(field.slice(0, 20) + "…")
        } is longer than ${MAX_SQL_NAME} characters`,
      );
    }
    const other = seen.get(field.toUpperCase());
    if (other !== undefined && other !== field) {
      throw new ConfigError(
        `${at}: fields ${JSON.stringify(other)} and ${
          JSON.stringify(field)
        } differ only in case (column names ignore case)`,
      );
    }
    seen.set(field.toUpperCase(), field);
  }
}

/** A declared field name: safe, and not reserved (rowid aliases, lineage columns, …). */
function fieldName(value: unknown, where: string): string {
  const problem = typeof value === "string"
    ? fieldNameProblem(value)
    : "is not a valid field name (a string)";
  if (problem) throw new ConfigError(`${where}: ${JSON.stringify(value)} ${problem}`);
  return value as string;
}
