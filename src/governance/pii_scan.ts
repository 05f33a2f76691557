/**
 * PII scan: looks through the lake (feeds and `_rejected/`) and every text value of the
 * warehouse for what must never be there. Exports (the test helper is `scanForPii`):
 *
 * - `findPii(text) → { kind, value }[]`: emails, IPv4 addresses whose last octet is not 0 (masked
 *   ones end in .0), and raw user ids of the producer's pool (`U` + 5 digits).
 * - `scanLake(root)`, `scanWarehouse(sql)`, `scanForPii({ lakeDir, warehouse? }) → PiiScanReport`.
 * - `describeFinding(finding)`: one line for people, with the value masked.
 *
 * Findings are grouped per place (file, or TABLE.COLUMN) and kind, with a count and the first
 * line or rowid, so a polluted feed gives a short report rather than a million lines.
 */
import { quoteIdent } from "../warehouse/db.ts";
import type { Sql } from "../warehouse/engine.ts";
import { lakeFiles } from "./lake_files.ts";

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

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const IPV4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g;
const USER_ID = /\bU\d{5}\b/g;

export function findPii(text: string): PiiMatch[] {
  const matches: PiiMatch[] = [];
  for (const m of text.matchAll(EMAIL)) matches.push({ kind: "email", value: m[0] });
  for (const m of text.matchAll(IPV4)) {
    const octets = m.slice(1, 5).map(Number);
    if (octets.every((o) => o <= 255) && octets[3] !== 0) {
      matches.push({ kind: "ipv4", value: m[0] });
    }
  }
  for (const m of text.matchAll(USER_ID)) matches.push({ kind: "user_id", value: m[0] });
  return matches;
}

export async function scanLake(root: string): Promise<PiiScanReport> {
  const report = emptyReport();
  const decoder = new TextDecoder();
  for await (const path of lakeFiles(root)) {
    report.scanned.files++;
    const lines = decoder.decode(await Deno.readFile(path)).split("\n");
    const found = new Map<PiiKind, PiiFinding>();
    lines.forEach((line, i) => {
      if (line === "") return;
      report.scanned.lines++;
      for (const match of findPii(line)) add(found, "lake", path, match, i + 1);
    });
    report.findings.push(...found.values());
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
  options: { lakeDir: string; warehouse?: Sql },
): Promise<PiiScanReport> {
  const lake = await scanLake(options.lakeDir);
  if (!options.warehouse) return lake;
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
