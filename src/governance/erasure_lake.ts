/**
 * The lake side of erasure: removes every line holding a needle (the person's pseudonym) from
 * the lake's record files — partitions, quarantine and the consumer's table journals — and keeps
 * every consumer checkpoint true.
 *
 * The scan runs outside the lake lock, so ingestion goes on while the lake is read. Only a file
 * that holds the needle is rewritten, under the lake lock, and only if it did not change since it
 * was scanned (same inode, size and mtime); otherwise it is scanned again under the lock. The
 * rewrite is atomic (temp file, fsync, rename), and the new length goes into every checkpoint
 * that knows the file before the lock is released: a consumer crashing at any instant after it
 * cuts the file at its true length, losing and duplicating nothing.
 */
import { Buffer } from "node:buffer";
import { updateFileLengths } from "../lake/checkpoint.ts";
import { replaceAtomically, sameStamp, stampOf, storageError } from "../lake/durable.ts";
import { JOURNALS_SUFFIX, normalizeRoot, STATE_DIR } from "../lake/layout.ts";
import { withLakeLock } from "../lake/lock.ts";
import { lakeFiles } from "./lake_files.ts";

export interface ErasedFile {
  path: string;
  /** The lines removed, as text (table-feed lines give the keys to tombstone). */
  lines: string[];
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/** Removes the lines containing `needle` from every record file of the lake at `root`. */
export async function eraseFromLake(root: string, needle: string): Promise<ErasedFile[]> {
  const base = normalizeRoot(root);
  const pattern = Buffer.from(needle);
  const erased: ErasedFile[] = [];
  for await (const path of recordFiles(base)) {
    const stamp = await stampOf(path);
    if (!stamp) continue; // gone since it was listed (retention)
    const data = await read(path);
    if (!data || data.indexOf(pattern) < 0) continue;
    // Lock order: job lock (JOB_LOCKS row) → load lock (kernel file lock, held by the caller) →
    // lake lock (here, one file at a time).
    const lines = await withLakeLock(base, async () => {
      let bytes: Buffer | undefined = data;
      if (!sameStamp(stamp, await stampOf(path))) bytes = await read(path); // appended meanwhile
      if (!bytes) return [];
      const ranges = linesHolding(bytes, pattern);
      if (ranges.length === 0) return [];
      const kept = keptChunks(bytes, ranges);
      await replaceAtomically(path, kept);
      const length = kept.reduce((sum, chunk) => sum + chunk.length, 0);
      await updateFileLengths(base, new Map([[path.slice(base.length + 1), length]]));
      return ranges.map(([from, to]) => decoder.decode(bytes.subarray(from, to)));
    });
    if (lines.length > 0) erased.push({ path, lines });
  }
  return erased;
}

/** Partitions and quarantine (lake_files), then the table journals in `_state`. */
async function* recordFiles(root: string): AsyncGenerator<string> {
  yield* lakeFiles(root);
  const state = `${root}/${STATE_DIR}`;
  for (const dir of await names(state)) {
    if (!dir.endsWith(JOURNALS_SUFFIX)) continue;
    for (const file of await names(`${state}/${dir}`)) {
      if (file.endsWith(".jsonl")) yield `${state}/${dir}/${file}`;
    }
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw storageError("list", dir, error);
  }
}

async function read(path: string): Promise<Buffer | undefined> {
  try {
    const data = await Deno.readFile(path);
    return Buffer.from(data.buffer, data.byteOffset, data.length);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw storageError("read", path, error);
  }
}

/** [start, end) of each line holding `pattern`, newline excluded, in order. */
function linesHolding(data: Buffer, pattern: Buffer): [number, number][] {
  const ranges: [number, number][] = [];
  let at = data.indexOf(pattern);
  while (at >= 0) {
    const start = data.lastIndexOf(NEWLINE, at) + 1;
    let end = data.indexOf(NEWLINE, at + pattern.length);
    if (end < 0) end = data.length;
    ranges.push([start, end]);
    at = end < data.length ? data.indexOf(pattern, end + 1) : -1;
  }
  return ranges;
}

/** The file without those lines (each with its newline): views into `data`, nothing copied. */
function keptChunks(data: Buffer, ranges: [number, number][]): Uint8Array[] {
  const kept: Uint8Array[] = [];
  let from = 0;
  for (const [start, end] of ranges) {
    if (start > from) kept.push(data.subarray(from, start));
    from = Math.min(end + 1, data.length);
  }
  if (from < data.length) kept.push(data.subarray(from));
  return kept;
}
