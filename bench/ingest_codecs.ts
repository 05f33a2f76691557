/**
 * What each KAFKA_COMPRESSION costs on the product's own records, with the client's codecs:
 * compression ratio and compress / decompress speed on batches of 1,000 generated records
 * (≈ 480 KB, what one produce call of ours carries per topic). Usage: ingest_codecs.ts [COUNT]
 */
import { Buffer } from "node:buffer";
import { compressionsAlgorithms } from "@platformatic/kafka";
import { COMPRESSIONS } from "../src/config/kafka.ts";

const count = Number(Deno.args[0] ?? 50_000);
const file = await Deno.makeTempFile();
try {
  const gen = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-write",
      new URL("./ingest_gen.ts", import.meta.url).pathname,
      String(count),
      file,
    ],
    stdout: "null",
  }).output();
  if (!gen.success) throw new Error("ingest_gen.ts failed");
  const lines = (await Deno.readTextFile(file)).split("\n").filter(Boolean);
  const batches: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 1000) {
    batches.push(Buffer.from(lines.slice(i, i + 1000).join("\n")));
  }
  const raw = batches.reduce((sum, b) => sum + b.length, 0);
  const mibPerS = (ms: number) => (raw / 1048576 / (ms / 1000)).toFixed(0);
  console.log(`${lines.length} records, ${(raw / 1048576).toFixed(1)} MiB, load ${Deno.loadavg()}`);
  for (const codec of COMPRESSIONS) {
    const algorithm = compressionsAlgorithms[codec];
    let started = performance.now();
    const compressed = batches.map((b) => algorithm.compressSync(b));
    const compressMs = performance.now() - started;
    started = performance.now();
    for (const c of compressed) algorithm.decompressSync(c);
    const decompressMs = performance.now() - started;
    const size = compressed.reduce((sum, c) => sum + c.length, 0);
    console.log(
      `${codec.padEnd(7)} ratio ${(raw / size).toFixed(2).padStart(5)}   compress ${
        mibPerS(compressMs).padStart(6)
      } MiB/s   decompress ${mibPerS(decompressMs).padStart(6)} MiB/s`,
    );
  }
} finally {
  await Deno.remove(file);
}
