/**
 * Removes every line holding a needle (erasure's pseudonym) from the lake's record files —
 * partitions, quarantine and the consumers' table journals (walk.ts) — and keeps every consumer
 * checkpoint true. Only regular files are read and rewritten; a link or anything else in the
 * lake is skipped and returned with its path (entries.ts).
 *
 * Ingestion is never blocked for the scan: each file is read, searched and (if it holds the
 * needle) rewritten into a synced temp file outside the lake lock. Under the lock, only if the
 * file did not change since it was read (same inode, size and mtime), the temp file is renamed
 * over it and the new length goes into every checkpoint that knows the file; a file that changed
 * meanwhile (a consumer appended) is read and rewritten again under the lock. A consumer
 * crashing at any instant after that cuts the file at its true length: nothing lost, nothing
 * twice. A few files are worked on at once, so one file's fsync overlaps the next one's read.
 */
import { updateFileLengths } from "./checkpoint.ts";
import { renameInto, sameStamp, stampOf, storageError, writeAside } from "./durable.ts";
import { openRegular, type UnsafeEntry, UnsafeEntryError } from "./entries.ts";
import { normalizeRoot } from "./layout.ts";
import { withLakeLock } from "./lock.ts";
import { lakeFiles } from "./walk.ts";

export interface ErasedFile {
  path: string;
  /** The lines removed, as text (table-feed lines give the keys to tombstone). */
  lines: string[];
}

export interface LakeErasure {
  files: ErasedFile[];
  /** Record files read, and their bytes. */
  scanned: { files: number; bytes: number };
  /** Longest time the lake lock was held for one file, in ms. */
  longestLockMs: number;
  /** Entries that are not regular files or real folders: neither read nor followed. */
  skipped: UnsafeEntry[];
}

/** Files read and rewritten at once. */
const CONCURRENCY = 3;
const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/** Removes the lines containing `needle` from every record file of the lake at `root`. */
export async function scrubLake(root: string, needle: string): Promise<LakeErasure> {
  const base = normalizeRoot(root);
  const search = new Needle(new TextEncoder().encode(needle));
  const result: LakeErasure = {
    files: [],
    scanned: { files: 0, bytes: 0 },
    longestLockMs: 0,
    skipped: [],
  };
  const byPath = new Map<string, string[]>();
  const paths = lakeFiles(base, { onUnsafe: (entry) => result.skipped.push(entry) });
  const worker = async () => {
    // One read buffer per worker, reused: far cheaper than a fresh allocation per file.
    const buffer = { bytes: new Uint8Array(0) };
    for (let next = await paths.next(); !next.done; next = await paths.next()) {
      const path = next.value;
      try {
        const lines = await eraseFile(base, path, search, result, buffer);
        if (lines.length > 0) byPath.set(path, lines);
      } catch (error) {
        // Swapped for a link (or a folder) since it was listed: skipped like the others.
        if (!(error instanceof UnsafeEntryError)) throw error;
        result.skipped.push({ path: error.path, kind: error.kind });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  result.files = [...byPath].sort(([a], [b]) => a.localeCompare(b)).map(([path, lines]) => ({
    path,
    lines,
  }));
  return result;
}

async function eraseFile(
  root: string,
  path: string,
  needle: Needle,
  result: LakeErasure,
  buffer: { bytes: Uint8Array },
): Promise<string[]> {
  const stamp = await stampOf(path);
  const data = stamp && await read(path, buffer);
  if (!data) return []; // gone since it was listed (retention)
  result.scanned.files++;
  result.scanned.bytes += data.length;
  let ranges = needle.lines(data);
  if (ranges.length === 0) return [];
  let tmp: string | undefined = await writeAside(path, keptChunks(data, ranges));
  // Lock order: job lock (JOB_LOCKS row) → load lock (kernel file lock, held by the caller) →
  // lake lock (here, one file at a time, never for the scan).
  return await withLakeLock(root, async () => {
    const started = performance.now();
    try {
      let bytes: Uint8Array | undefined = data;
      if (!sameStamp(stamp, await stampOf(path))) {
        // Changed since it was read (appended, or rewritten): read and search it again.
        await Deno.remove(tmp!).catch(() => {});
        tmp = undefined;
        bytes = await read(path, buffer);
        ranges = bytes ? needle.lines(bytes) : [];
        if (!bytes || ranges.length === 0) return [];
        tmp = await writeAside(path, keptChunks(bytes, ranges));
      }
      await renameInto(tmp!, path);
      tmp = undefined;
      const length = bytes.length -
        ranges.reduce((n, [from, to]) => n + lineBytes(bytes!, from, to), 0);
      await updateFileLengths(root, new Map([[path.slice(root.length + 1), length]]));
      return ranges.map(([from, to]) => decoder.decode(bytes!.subarray(from, to)));
    } finally {
      if (tmp) await Deno.remove(tmp).catch(() => {});
      result.longestLockMs = Math.max(result.longestLockMs, performance.now() - started);
    }
  });
}

/** Bytes a removed line [from, to) takes, its newline included when it has one. */
function lineBytes(data: Uint8Array, from: number, to: number): number {
  return to - from + (to < data.length ? 1 : 0);
}

/** The file's bytes, in `buffer` (grown as needed); undefined if it is gone. */
async function read(path: string, buffer: { bytes: Uint8Array }): Promise<Uint8Array | undefined> {
  let file: Deno.FsFile;
  try {
    file = await openRegular(path, { read: true }); // never through a link
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UnsafeEntryError) throw error;
    throw storageError("read", path, error);
  }
  try {
    const size = (await file.stat()).size;
    if (buffer.bytes.length < size) buffer.bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = await file.read(buffer.bytes.subarray(at, size));
      if (n === null) break;
      at += n;
    }
    return buffer.bytes.subarray(0, at);
  } catch (error) {
    throw storageError("read", path, error);
  } finally {
    file.close();
  }
}

/**
 * Finds a byte string in bytes: Horspool's algorithm on the last two bytes of the window, so a
 * hex needle in hex-heavy JSON still skips most of its length at each step (node:buffer's
 * indexOf is many times slower here, and decoding to a string costs more than the search).
 */
class Needle {
  #bytes: Uint8Array;
  #shift: Uint8Array | Uint16Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length < 2 || bytes.length > 65_535) throw new RangeError("needle length");
    this.#bytes = bytes;
    const m = bytes.length;
    const shift = m < 256 ? new Uint8Array(65_536) : new Uint16Array(65_536);
    shift.fill(m - 1);
    for (let i = 0; i < m - 2; i++) shift[(bytes[i] << 8) | bytes[i + 1]] = m - 2 - i;
    this.#shift = shift;
  }

  /** Position of the first match at or after `from`, or -1. */
  indexOf(data: Uint8Array, from = 0): number {
    const needle = this.#bytes;
    const shift = this.#shift;
    const m = needle.length;
    const last = data.length - m;
    let at = from;
    while (at <= last) {
      const step = shift[(data[at + m - 2] << 8) | data[at + m - 1]];
      if (
        step === 0 || (data[at + m - 2] === needle[m - 2] && data[at + m - 1] === needle[m - 1])
      ) {
        let i = 0;
        while (i < m && data[at + i] === needle[i]) i++;
        if (i === m) return at;
      }
      at += step || 1;
    }
    return -1;
  }

  /** [start, end) of each line holding the needle, newline excluded, in order. */
  lines(data: Uint8Array): [number, number][] {
    const ranges: [number, number][] = [];
    let at = this.indexOf(data);
    while (at >= 0) {
      const start = data.lastIndexOf(NEWLINE, at) + 1;
      let end = data.indexOf(NEWLINE, at + this.#bytes.length);
      if (end < 0) end = data.length;
      ranges.push([start, end]);
      at = end < data.length ? this.indexOf(data, end + 1) : -1;
    }
    return ranges;
  }
}

/** The file without those lines (each with its newline): views into `data`, nothing copied. */
function keptChunks(data: Uint8Array, ranges: [number, number][]): Uint8Array[] {
  const kept: Uint8Array[] = [];
  let from = 0;
  for (const [start, end] of ranges) {
    if (start > from) kept.push(data.subarray(from, start));
    from = Math.min(end + 1, data.length);
  }
  if (from < data.length) kept.push(data.subarray(from));
  return kept;
}
