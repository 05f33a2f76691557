/**
 * PII scan: looks through the lake (feeds and `_rejected/`) and every text value of the
 * warehouse for what must never be there. Exports (the test helper is `scanForPii`):
 *
 * - `findPii(text) → { kind, value }[]`: emails (linear time, `findEmails`), IPv4 addresses whose last octet is not 0 (masked
 *   ones end in .0), and raw user ids of the producer's pool (`U` + 5 digits).
 * - `scanLake(root)`, `scanWarehouse(sql)`, `scanForPii({ lakeDir, warehouse? }) → PiiScanReport`.
 * - `describeFinding(finding)`: one line for people, with the value masked.
 *
 * Findings are grouped per place (file, or TABLE.COLUMN) and kind, with a count and the first
 * line or rowid, so a polluted feed gives a short report rather than a million lines.
 */
import { quoteIdent } from "../warehouse/db.ts";
import type { Sql } from "../warehouse/engine.ts";
import { lakeFiles } from "../lake/walk.ts";

export type PiiKind = "email" | "ipv4" | "user_id";

export interface PiiMatch {
  kind: PiiKind;
  value: string;
}

export interface PiiFinding {
  source: "lake" | "warehouse";
  /** A lake file path, or TABLE.COLUMN. */
  location: string;
  kind: PiiKind;
  count: number;
  /** First line (lake, 1-based) or rowid (warehouse) where it was seen. */
  first: number;
  /** The first value seen, masked. */
  sample: string;
}

export interface PiiScanReport {
  findings: PiiFinding[];
  scanned: { files: number; lines: number; tables: number; values: number };
}

const IPV4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g;
const USER_ID = /\bU\d{5}\b/g;

/** Lines between two looks at the signal and the progress line (they yield to the event loop). */
const YIELD_EVERY_LINES = 2000;

export interface ScanOptions {
  /** Stops the scan between lines and between columns; it then throws the signal's reason. */
  signal?: AbortSignal;
  /** Called after each lake file and every few thousand lines. */
  onProgress?: (scanned: PiiScanReport["scanned"], location: string) => void;
}

export function findPii(text: string): PiiMatch[] {
  const matches: PiiMatch[] = findEmails(text).map((value) => ({ kind: "email", value }));
  for (const m of text.matchAll(IPV4)) {
    const octets = m.slice(1, 5).map(Number);
    if (octets.every((o) => o <= 255) && octets[3] !== 0) {
      matches.push({ kind: "ipv4", value: m[0] });
    }
  }
  for (const m of text.matchAll(USER_ID)) matches.push({ kind: "user_id", value: m[0] });
  return matches;
}

/**
 * Email addresses, as /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g finds
 * them, in linear time: that regex retries its local part from every start position, which is
 * quadratic on a long line without an "@". Here each "@" looks left over local-part characters
 * and right over domain characters, and neither run crosses an "@", so each character is read a
 * bounded number of times.
 */
export function findEmails(text: string): string[] {
  const found: string[] = [];
  let end = 0; // where the previous match ended: matches do not overlap
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > end && isLocalChar(text.charCodeAt(start - 1))) start--;
    if (start === at) continue;
    const domainEnd = domainMatchEnd(text, at + 1);
    if (domainEnd === -1) continue;
    found.push(text.slice(start, domainEnd));
    end = domainEnd;
    at = domainEnd - 1;
  }
  return found;
}

/**
 * End of the longest `label(.label)*.tld` starting at `from` (labels [A-Za-z0-9-]+, tld two
 * letters or more, possibly followed by other characters), or -1 when there is none.
 */
function domainMatchEnd(text: string, from: number): number {
  let best = -1;
  let i = from;
  let labels = 0;
  while (i < text.length) {
    const labelStart = i;
    while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
    if (i === labelStart) break; // empty label: the chain ends
    if (labels > 0) {
      let letters = labelStart;
      while (letters < i && isLetter(text.charCodeAt(letters))) letters++;
      if (letters - labelStart >= 2) best = letters;
    }
    labels++;
    if (text.charCodeAt(i) !== 46 /* . */) break;
    i++;
  }
  return best;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isLabelChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 45; /* - */
}

function isLocalChar(c: number): boolean {
  return isLabelChar(c) || c === 46 || c === 95 || c === 37 || c === 43; /* . _ % + */
}

export async function scanLake(root: string, options: ScanOptions = {}): Promise<PiiScanReport> {
  const report = emptyReport();
  const decoder = new TextDecoder();
  for await (const path of lakeFiles(root)) {
    options.signal?.throwIfAborted();
    report.scanned.files++;
    const lines = decoder.decode(await Deno.readFile(path)).split("\n");
    const found = new Map<PiiKind, PiiFinding>();
    for (let i = 0; i < lines.length; i++) {
      if (i > 0 && i % YIELD_EVERY_LINES === 0) {
        // Let SIGINT/SIGTERM handlers run, then honour them.
        await new Promise((resolve) => setTimeout(resolve, 0));
        options.signal?.throwIfAborted();
        options.onProgress?.(report.scanned, path);
      }
      const line = lines[i];
      if (line === "") continue;
      report.scanned.lines++;
      for (const match of findPii(line)) add(found, "lake", path, match, i + 1);
    }
    report.findings.push(...found.values());
    options.onProgress?.(report.scanned, path);
  }
  return report;
}

export async function scanWarehouse(sql: Sql): Promise<PiiScanReport> {
  const report = emptyReport();
  const { dialect } = sql;
  for (const table of await dialect.tables(sql)) {
    report.scanned.tables++;
    for (const column of await dialect.columns(sql, table)) {
      // SQL picks the candidates (an @, a dotted number, a U and digits); JS decides.
      const where = dialect.piiCandidates(column);
      if (where === null) continue;
      const rows = await sql.all(
        `SELECT ${dialect.rowId} AS id, ${quoteIdent(column.name)} AS v FROM ${
          quoteIdent(table)
        } WHERE ${where}`,
      );
      const found = new Map<PiiKind, PiiFinding>();
      for (const row of rows) {
        report.scanned.values++;
        for (const match of findPii(String(row.v))) {
          add(found, "warehouse", `${table}.${column.name}`, match, Number(row.id));
        }
      }
      report.findings.push(...found.values());
    }
  }
  return report;
}

/** The whole scan: the lake, and the warehouse when one is given. */
export async function scanForPii(
  options: { lakeDir: string; warehouse?: Sql } & ScanOptions,
): Promise<PiiScanReport> {
  const lake = await scanLake(options.lakeDir, options);
  if (!options.warehouse) return lake;
  options.signal?.throwIfAborted();
  const warehouse = await scanWarehouse(options.warehouse);
  return {
    findings: [...lake.findings, ...warehouse.findings],
    scanned: {
      files: lake.scanned.files,
      lines: lake.scanned.lines,
      tables: warehouse.scanned.tables,
      values: warehouse.scanned.values,
    },
  };
}

export function describeFinding(f: PiiFinding): string {
  const where = f.source === "lake"
    ? `${f.location}:${f.first}`
    : `${f.location} (rowid ${f.first})`;
  const times = f.count === 1 ? "once" : `${f.count} times`;
  return `${f.kind} ${times} in ${f.source} ${where}, e.g. ${f.sample}`;
}

/** Keeps the shape, hides the person: a***@example.com, 203.0.113.*, U0****. */
export function maskValue(kind: PiiKind, value: string): string {
  if (kind === "email") {
    const at = value.indexOf("@");
    return `${value.slice(0, 1)}***${value.slice(at)}`;
  }
  if (kind === "ipv4") return value.replace(/\.\d+$/, ".*");
  return `${value.slice(0, 2)}****`;
}

function add(
  found: Map<PiiKind, PiiFinding>,
  source: PiiFinding["source"],
  location: string,
  match: PiiMatch,
  at: number,
): void {
  const existing = found.get(match.kind);
  if (existing) existing.count++;
  else {
    found.set(match.kind, {
      source,
      location,
      kind: match.kind,
      count: 1,
      first: at,
      sample: maskValue(match.kind, match.value),
    });
  }
}

function emptyReport(): PiiScanReport {
  return { findings: [], scanned: { files: 0, lines: 0, tables: 0, values: 0 } };
}
