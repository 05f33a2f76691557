/**
 * The raw node:sqlite limit for the load benchmark: `deno run -A bench/load_raw.ts <db> <files…>`.
 * Streams each file, JSON.parse per line, one prepared `INSERT OR REPLACE` per row, all in one
 * transaction; nothing else (no validation, no lineage, no foreign keys, no bookkeeping). Same
 * table shape as the warehouse's (typed columns, TRANSACTION_ID primary key). Prints the rows.
 */
import { DatabaseSync } from "node:sqlite";

const [path, ...files] = Deno.args;
if (!path || files.length === 0) throw new Error("usage: load_raw.ts <db> <file.jsonl>…");
const COLUMNS: [string, string][] = [
  ["TRANSACTION_ID", "TEXT NOT NULL PRIMARY KEY"],
  ["USER_ID_HASHED", "TEXT"],
  ["USER_NAME_HASHED", "TEXT"],
  ["EMAIL_HASHED", "TEXT"],
  ["TRANSACTION_TYPE", "TEXT"],
  ["AMOUNT", "REAL"],
  ["CURRENCY", "TEXT"],
  ["STATUS", "TEXT"],
  ["CITY", "TEXT"],
  ["COUNTRY", "TEXT"],
  ["IP_MASKED", "TEXT"],
  ["STREET_MASKED", "TEXT"],
  ["TIMESTAMP", "TEXT"],
  ["AMOUNT_USD", "REAL"],
  ["TARGET_CURRENCY", "TEXT"],
];
const db = new DatabaseSync(path);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
db.exec(
  `CREATE TABLE IF NOT EXISTS TRANSACTIONS_USD (${
    COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(", ")
  })`,
);
const names = COLUMNS.map(([name]) => name);
const insert = db.prepare(
  `INSERT OR REPLACE INTO TRANSACTIONS_USD VALUES (${names.map(() => "?").join(", ")})`,
);
let rows = 0;
db.exec("BEGIN");
for (const file of files) {
  let carry = "";
  for await (const text of (await Deno.open(file)).readable.pipeThrough(new TextDecoderStream())) {
    const lines = (carry + text).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      const record = JSON.parse(line);
      insert.run(...names.map((name) => record[name] ?? null));
      rows++;
    }
  }
}
db.exec("COMMIT");
db.close();
console.log(rows);
