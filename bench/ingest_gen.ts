/**
 * Writes N TRANSACTIONS_SECURE-shaped JSON lines (the processor's output: hashed ids, masked IP
 * and street) with TIMESTAMP spread over a few days, for bench/ingest.sh.
 * Usage: deno run --allow-write bench/ingest_gen.ts <count> <file>
 */
const [countArg, file] = Deno.args;
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || !file) {
  console.error("usage: ingest_gen.ts <count> <file>");
  Deno.exit(2);
}

const TYPES = ["purchase", "transfer", "withdrawal", "deposit", "refund"];
const STATUSES = ["completed", "failed", "pending", "processing", "cancelled"];
const CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"];
const PLACES = [
  ["Paris", "France"],
  ["Lyon", "France"],
  ["Berlin", "Germany"],
  ["Madrid", "Spain"],
];
const START = Date.parse("2026-11-20T00:00:00Z");
const SPAN = 4 * 24 * 3600 * 1000; // four days

let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const hex = (n: number) => {
  let s = "";
  while (s.length < n) s += Math.floor(random() * 0xffffffff).toString(16).padStart(8, "0");
  return s.slice(0, n);
};
const users = Array.from({ length: 1000 }, () => [hex(64), hex(64), hex(64)]);

const out = await Deno.open(file, { write: true, create: true, truncate: true });
const encoder = new TextEncoder();
let chunk: string[] = [];
for (let i = 0; i < count; i++) {
  const [user, name, email] = users[Math.floor(random() * users.length)];
  const [city, country] = PLACES[i % PLACES.length];
  chunk.push(JSON.stringify({
    TRANSACTION_ID: `TXN-${i.toString(16).padStart(8, "0")}`,
    USER_ID_HASHED: user,
    USER_NAME_HASHED: name.slice(0, 32),
    EMAIL_HASHED: email.slice(0, 32),
    TRANSACTION_TYPE: TYPES[i % TYPES.length],
    AMOUNT: Math.round(random() * 100000) / 100,
    CURRENCY: CURRENCIES[i % CURRENCIES.length],
    STATUS: STATUSES[i % STATUSES.length],
    CITY: city,
    COUNTRY: country,
    IP_MASKED: `10.${i % 250}.${(i >> 8) % 250}.0`,
    STREET_MASKED: "nn rue de la Paix",
    TIMESTAMP: new Date(START + Math.floor(random() * SPAN)).toISOString(),
  }));
  if (chunk.length === 10000) {
    await out.write(encoder.encode(chunk.join("\n") + "\n"));
    chunk = [];
  }
}
if (chunk.length) await out.write(encoder.encode(chunk.join("\n") + "\n"));
out.close();
