/** Helpers of the hostile-input tests: raw bytes onto a topic, a feeds file, lake walks. */
import { Admin, Producer, stringSerializers } from "@platformatic/kafka";
import { BROKERS, tempDir } from "../helpers/env.ts";

const encoder = new TextEncoder();

/** Each value one message, produced with kcat from files, so any bytes (bad UTF-8 too) go. */
export async function produceBytes(topic: string, values: (Uint8Array | string)[]): Promise<void> {
  const dir = await tempDir("hostile-msg-");
  try {
    const files: string[] = [];
    for (const [i, value] of values.entries()) {
      const path = `${dir}/${String(i).padStart(5, "0")}`;
      await Deno.writeFile(path, typeof value === "string" ? encoder.encode(value) : value);
      files.push(path);
    }
    const out = await new Deno.Command("kcat", {
      args: ["-b", BROKERS, "-P", "-t", topic, ...files],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (out.code !== 0) throw new Error(`kcat failed: ${new TextDecoder().decode(out.stderr)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A topic that accepts any CreateTime (the broker refuses times over an hour ahead by default),
 * and records with the given timestamps: what a producer with a broken clock sends.
 */
export async function produceWithTimestamps(
  topic: string,
  records: { value: string; timestamp: string }[],
): Promise<void> {
  const options = { clientId: "hostile-test", bootstrapBrokers: BROKERS.split(",") };
  const admin = new Admin(options);
  try {
    await admin.createTopics({
      topics: [topic],
      partitions: 1,
      replicas: 1,
      configs: [{ name: "message.timestamp.after.max.ms", value: "9223372036854775807" }],
    });
  } finally {
    await admin.close();
  }
  const producer = new Producer({ ...options, serializers: stringSerializers });
  try {
    await producer.send({
      messages: records.map((r) => ({ topic, value: r.value, timestamp: BigInt(r.timestamp) })),
    });
  } finally {
    await producer.close();
  }
}

/** Writes a FEEDS_FILE holding `feeds` and returns its path. */
export async function feedsFile(dir: string, feeds: unknown[]): Promise<string> {
  const path = `${dir}/feeds.json`;
  await Deno.writeTextFile(path, JSON.stringify({ feeds }));
  return path;
}

/** Every file under `dir`, relative to it. */
export async function walk(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) out.push(...await walk(`${dir}/${entry.name}`, rel));
      else out.push(rel);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}

/** The JSON lines of every file under `dir` whose path contains `part`. */
export async function jsonLines(dir: string, part: string): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  for (const rel of await walk(dir)) {
    if (!rel.includes(part) || !rel.endsWith(".jsonl")) continue;
    const text = await Deno.readTextFile(`${dir}/${rel}`);
    for (const line of text.split("\n")) if (line) lines.push(JSON.parse(line));
  }
  return lines;
}

/** Lake folder names: a feed, `_rejected/<feed>` or `_state`, then YYYY-MM-DD in 1970–2200. */
export function unsafeLakePaths(files: string[]): string[] {
  return files.filter((rel) => {
    const m =
      /^(?:_rejected\/)?([A-Z][A-Z0-9_]*)\/(\d{4})-\d{2}-\d{2}\/\1_\d{4}-\d{2}-\d{2}\.jsonl$/
        .exec(rel);
    if (rel.startsWith("_state/")) return false;
    return !m || Number(m[2]) < 1970 || Number(m[2]) > 2200;
  });
}
