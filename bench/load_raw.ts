/**
 * The raw node:sqlite limit for the load benchmark: `deno run -A bench/load_raw.ts <db> <files…>`.
 * Streams each file, JSON.parse per line, one prepared `INSERT OR REPLACE` per row, all in one
 * transaction; nothing else (no validation, no lineage, no foreign keys, no bookkeeping). Same
 * table shape as the warehouse's (typed columns, TRANSACTION_ID primary key). Prints the rows.
 *
 * `--our-work` (context, not the goal's peer): the rows as the warehouse must write them, still
 * without validation or bookkeeping: the three lineage columns, the foreign key to USERS enforced
 * (a placeholder user inserted once per new id, as ours), its index built at the end.
 */
import { DatabaseSync } from "node:sqlite";

const ourWork = Deno.args[0] === "--our-work";
const [path, ...files] = ourWork ? Deno.args.slice(1) : Deno.args;
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
const LINEAGE: [string, string][] = [
  ["_SOURCE_FILE", "TEXT"],
  ["_SOURCE_LINE", "INTEGER"],
  ["_LOADED_AT", "TEXT"],
];
const db = new DatabaseSync(path);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
if (ourWork) {
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(
    `CREATE TABLE IF NOT EXISTS USERS ("USER_ID_HASHED" TEXT NOT NULL PRIMARY KEY, ` +
      `"_LOADED_AT" TEXT, "_INFERRED" INTEGER NOT NULL DEFAULT 0)`,
  );
}
const columns = ourWork ? [...COLUMNS, ...LINEAGE] : COLUMNS;
db.exec(
  `CREATE TABLE IF NOT EXISTS TRANSACTIONS_USD (${
    columns.map(([name, type]) => `"${name}" ${type}`).join(", ")
  }${ourWork ? `, FOREIGN KEY ("USER_ID_HASHED") REFERENCES USERS ("USER_ID_HASHED")` : ""})`,
);
const names = COLUMNS.map(([name]) => name);
const insert = db.prepare(
  `INSERT OR REPLACE INTO TRANSACTIONS_USD VALUES (${columns.map(() => "?").join(", ")})`,
);
const placeholder = ourWork
  ? db.prepare(
    `INSERT OR IGNORE INTO USERS ("USER_ID_HASHED", "_LOADED_AT", "_INFERRED") VALUES (?, ?, 1)`,
  )
  : undefined;
const users = new Set<string>();
const loadedAt = new Date().toISOString();
let rows = 0;
db.exec("BEGIN");
for (const file of files) {
  const relative = file.slice(file.indexOf("TRANSACTIONS_USD/"));
  let number = 0;
  let carry = "";
  for await (const text of (await Deno.open(file)).readable.pipeThrough(new TextDecoderStream())) {
    const lines = (carry + text).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      number++;
      if (!line) continue;
      const record = JSON.parse(line);
      rows++;
      if (!ourWork) {
        insert.run(...names.map((name) => record[name] ?? null));
        continue;
      }
      const user = record.USER_ID_HASHED;
      if (user != null && !users.has(user)) {
        placeholder!.run(user, loadedAt);
        users.add(user);
      }
      insert.run(...names.map((name) => record[name] ?? null), relative, number, loadedAt);
    }
  }
}
if (ourWork) db.exec(`CREATE INDEX TRANSACTIONS_USD__USER ON TRANSACTIONS_USD ("USER_ID_HASHED")`);
db.exec("COMMIT");
db.close();
console.log(rows);
