/**
 * Writes N raw transactions as `USER_ID<TAB>JSON` lines for `kcat -P -K '\t'` (bench/process.sh):
 * the fake producer's own generator (same users, currencies, statuses), without its Kafka client,
 * so the topic is filled by a reference tool. Usage: process_gen.ts <count> <file|-> [seed]
 * ("-" writes to stdout, for piping millions of lines into kcat without a file).
 */
import { transactionGenerator } from "../src/producer/transactions.ts";
import { POOL_SEED, userPool } from "../src/producer/users.ts";

const [countArg, file, seedArg = "1"] = Deno.args;
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || !file) {
  console.error("usage: process_gen.ts <count> <file> [seed]");
  Deno.exit(2);
}
const next = transactionGenerator({
  seed: Number(seedArg),
  users: userPool(POOL_SEED, 200),
  now: Date.now(),
});
const out = file === "-"
  ? Deno.stdout
  : await Deno.open(file, { write: true, create: true, truncate: true });
const encoder = new TextEncoder();
let chunk: string[] = [];
for (let i = 0; i < count; i++) {
  const tx = next();
  chunk.push(`${tx.USER_ID}\t${JSON.stringify(tx)}`);
  if (chunk.length === 10_000) {
    await writeAll(encoder.encode(chunk.join("\n") + "\n"));
    chunk = [];
  }
}
if (chunk.length) await writeAll(encoder.encode(chunk.join("\n") + "\n"));
if (out !== Deno.stdout) out.close();

async function writeAll(bytes: Uint8Array) {
  // A pipe takes part of a large write at a time.
  for (let at = 0; at < bytes.length;) at += await out.write(bytes.subarray(at));
}
