/**
 * The file a `LOAD DATA LOCAL INFILE` reads (MySQL/MariaDB's bulk path), written by the loader
 * itself from rows it already validated: one line per row, fields separated by a tab, in the
 * server's default escaping (a backslash before tab, newline, carriage return, backslash and
 * NUL; `\N` for NULL). The statement that reads it comes from the dialect (loadData), with the
 * matching FIELDS/LINES clauses spelled there once.
 */
/** A value of a row (engine.ts's SqlValue, spelled here: dialect.ts imports this module). */
type FieldValue = string | number | bigint | null;

const SPECIAL = /[\t\n\r\\\0]/g;
const ESCAPES: Record<string, string> = {
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
  "\\": "\\\\",
  "\0": "\\0",
};

/** One field: text escaped, numbers in their shortest exact decimal form, NULL as `\N`. */
export function loadDataField(value: FieldValue): string {
  if (value === null) return "\\N";
  if (typeof value === "string") return value.replace(SPECIAL, (c) => ESCAPES[c]);
  return String(value);
}

/** The clauses after the table name that read what loadDataLines writes. */
export const LOAD_DATA_FORMAT = "CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' " +
  "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'";

/** The file's text, one line per row (`width` values each, taken in order from `values`). */
export function loadDataText(values: readonly FieldValue[], width: number): string {
  const lines: string[] = new Array(values.length / width);
  const fields: string[] = new Array(width);
  for (let row = 0, at = 0; at < values.length; row++) {
    for (let i = 0; i < width; i++) fields[i] = loadDataField(values[at++]);
    lines[row] = fields.join("\t");
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
