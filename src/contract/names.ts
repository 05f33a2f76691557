/**
 * Names that reach a folder, a table or a column: the safe alphabets and the reserved lists.
 * Field names come from outside (Kafka values, POST bodies) and become SQL columns and JavaScript
 * property keys, so SQLite's rowid aliases, Object.prototype's names and our own lineage and
 * bookkeeping columns are refused, whatever their case (SQLite compares column names without it).
 */

/** Feed names: upper-case letters, digits, underscores, starting with a letter. */
export const FEED_NAME = /^[A-Z][A-Z0-9_]{0,126}$/;
/** Field (column) names: letters, digits, underscores; no quoting tricks reach SQL. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Lineage columns every feed table carries (the warehouse fills them, records may not). */
export const LINEAGE_COLUMNS = ["_SOURCE_FILE", "_SOURCE_LINE", "_LOADED_AT"] as const;
/** Marks a placeholder row created for a foreign key that pointed nowhere yet. */
export const INFERRED_COLUMN = "_INFERRED";

/** SQLite's names for the rowid: a column so named hides it. */
const ROWID_ALIASES = ["ROWID", "OID", "_ROWID_"];
/** Object.prototype's own names: as plain-object keys they answer without being there. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).map((n) => n.toUpperCase());

/** Field names no record may carry, upper-cased. */
export const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set([
  ...ROWID_ALIASES,
  ...PROTOTYPE_NAMES,
  ...LINEAGE_COLUMNS,
  INFERRED_COLUMN,
]);

/** The warehouse's own tables: a feed so named would serve or overwrite them. */
export const RESERVED_TABLE_NAMES: ReadonlySet<string> = new Set([
  "ACCOUNTS",
  "PERMISSIONS",
  "AUDIT_LOG",
  "JOB_RUNS",
  "JOB_LOCKS",
  "LOADER_FILES",
  "_LOADER_FILES",
]);

/** Verdicts on names seen before: records of a feed repeat the same dozen names. */
const verdicts = new Map<string, string | undefined>();
const MAX_VERDICTS = 10_000;

/** Why `name` cannot be a field (column) name, or undefined when it can. */
export function fieldNameProblem(name: string): string | undefined {
  if (verdicts.has(name)) return verdicts.get(name);
  const problem = checkFieldName(name);
  // Bounded: random names from a hostile producer must not grow it without end.
  if (verdicts.size < MAX_VERDICTS && name.length <= 128) verdicts.set(name, problem);
  return problem;
}

function checkFieldName(name: string): string | undefined {
  if (!FIELD_NAME.test(name)) {
    return "is not a valid field name (letters, digits and _, starting with a letter or _, " +
      "at most 128 characters)";
  }
  if (RESERVED_FIELD_NAMES.has(name.toUpperCase())) return "is a reserved name";
  return undefined;
}

/** Why `name` cannot be a feed (topic, folder, table) name, or undefined when it can. */
export function feedNameProblem(name: string): string | undefined {
  if (!FEED_NAME.test(name)) {
    return "is not a valid feed name (upper-case letters, digits and _, starting with a letter; " +
      "it becomes a folder and a table)";
  }
  if (RESERVED_TABLE_NAMES.has(name)) return "is reserved: it is one of the warehouse's own tables";
  if (name.startsWith("SQLITE_")) return "is reserved: SQLite keeps names starting with SQLITE_";
  return undefined;
}

/** A short, printable rendering of a name from outside (for reasons and error lines). */
export function shown(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}
