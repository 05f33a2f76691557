/**
 * Builds the erasure benchmark's data: a warehouse of exactly ROWS rows (USERS, then
 * TRANSACTIONS_SECURE and TRANSACTIONS_USD sharing the rest) and a lake holding the same fact
 * records in daily partitions, every user active on many days (the worst case: erasure rewrites
 * every partition file). Usage: erase_gen.ts <lake dir> <warehouse path> [rows] [users] [days]
 */
import { loadConfig } from "../src/config/config.ts";
import { partitionPath } from "../src/lake/layout.ts";
import { hmacHexSync, hmacKey } from "../src/processor/pseudonymize.ts";
import { recountRows } from "../src/warehouse/bookkeeping.ts";
import { ensureFeedSchema } from "../src/warehouse/feed_schema.ts";
import { openSqliteWarehouse } from "../src/warehouse/sqlite.ts";

const [lakeDir, warehousePath, rowsArg, usersArg, daysArg] = Deno.args;
const ROWS = Number(rowsArg ?? 1_000_000);
const USERS = Number(usersArg ?? 10_000);
const DAYS = Number(daysArg ?? 30);
const KEY = Deno.env.get("ANONYMIZATION_KEY") ?? "bench-anonymization-key";
const FACT_FEEDS = ["TRANSACTIONS_SECURE", "TRANSACTIONS_USD"];
const perFeed = Math.floor((ROWS - USERS) / FACT_FEEDS.length);
const extra = ROWS - USERS - perFeed * FACT_FEEDS.length; // the odd row goes to the first feed

const key = hmacKey(KEY);
const users: string[] = [];
for (let i = 0; i < USERS; i++) users.push(hmacHexSync(key, `U${String(i).padStart(5, "0")}`));

const config = loadConfig({ get: () => undefined });
const warehouse = openSqliteWarehouse(warehousePath);
await ensureFeedSchema(warehouse, config.feeds);
const db = warehouse.db;
const started = performance.now();
db.exec("BEGIN");
const insertUser = db.prepare(
  "INSERT INTO USERS (USER_ID_HASHED, USER_NAME_HASHED, EMAIL_HASHED, CITY, COUNTRY, " +
    "FIRST_SEEN_AT, LAST_SEEN_AT, _SOURCE_FILE, _SOURCE_LINE, _LOADED_AT) " +
    "VALUES (?, ?, ?, 'Lyon', 'France', ?, ?, 'USERS/x/USERS_x.jsonl', ?, ?)",
);
const at = new Date().toISOString();
users.forEach((u, i) => insertUser.run(u, u, u, at, at, i + 1, at));

const encoder = new TextEncoder();
const base = Date.UTC(2026, 9, 1);
for (const [f, feed] of FACT_FEEDS.entries()) {
  const count = perFeed + (f === 0 ? extra : 0);
  const insert = db.prepare(
    `INSERT INTO ${feed} (TRANSACTION_ID, USER_ID_HASHED, USER_NAME_HASHED, EMAIL_HASHED, ` +
      "TRANSACTION_TYPE, AMOUNT, CURRENCY, STATUS, CITY, COUNTRY, IP_MASKED, STREET_MASKED, " +
      "TIMESTAMP, _SOURCE_FILE, _SOURCE_LINE, _LOADED_AT) " +
      "VALUES (?, ?, ?, ?, 'purchase', ?, 'EUR', 'completed', 'Lyon', 'France', '10.1.2.0', " +
      "'nn rue de la Paix', ?, ?, ?, ?)",
  );
  const files = new Map<number, { file: Deno.FsFile; lines: string[]; path: string }>();
  for (let j = 0; j < count; j++) {
    const user = users[j % USERS];
    const day = Math.floor(j / USERS) % DAYS; // each user on every day: erasure touches every file
    const timestamp = new Date(base + day * 86_400_000 + (j % 86_400) * 1000).toISOString();
    const id = `TXN-${j.toString(16).padStart(8, "0").toUpperCase()}`;
    const amount = 1 + (j % 500);
    let out = files.get(day);
    if (!out) {
      const path = partitionPath(lakeDir, feed, timestamp.slice(0, 10));
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      out = {
        file: await Deno.open(path, { write: true, create: true, truncate: true }),
        lines: [],
        path,
      };
      files.set(day, out);
    }
    out.lines.push(JSON.stringify({
      TRANSACTION_ID: id,
      USER_ID_HASHED: user,
      USER_NAME_HASHED: user,
      EMAIL_HASHED: user,
      TRANSACTION_TYPE: "purchase",
      AMOUNT: amount,
      CURRENCY: "EUR",
      STATUS: "completed",
      CITY: "Lyon",
      COUNTRY: "France",
      IP_MASKED: "10.1.2.0",
      STREET_MASKED: "nn rue de la Paix",
      TIMESTAMP: timestamp,
    }));
    insert.run(id, user, user, user, amount, timestamp, out.path, out.lines.length, at);
    if (out.lines.length % 5000 === 0) {
      await out.file.write(encoder.encode(out.lines.splice(0).join("\n") + "\n"));
    }
  }
  for (const out of files.values()) {
    if (out.lines.length) await out.file.write(encoder.encode(out.lines.join("\n") + "\n"));
    out.file.close();
  }
}
db.exec("COMMIT");
// Rows went in behind the loader's back: its row counts are counted once more.
await recountRows(warehouse, config.feeds.map((feed) => feed.name));
const total = db.prepare(
  "SELECT (SELECT COUNT(*) FROM USERS) + (SELECT COUNT(*) FROM TRANSACTIONS_SECURE) + " +
    "(SELECT COUNT(*) FROM TRANSACTIONS_USD) AS n",
).get()?.n;
db.close();
console.log(
  `built ${total} warehouse rows (${USERS} users, ${DAYS} days) in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s`,
);
