/**
 * Streams the complete lines of a lake file from a byte offset, in chunks, so a file of any size
 * is read with a small, fixed amount of memory. A last line without its "\n" is still being
 * written: it is not handed out, and the next load starts at its first byte. Files are opened
 * through the lake (regular files only, never through a link).
 */
import { openRegular } from "../lake/entries.ts";
const CHUNK_BYTES = 1 << 16;
const NEWLINE = 10;

export interface Line {
  /** The line's text; empty when its bytes are not UTF-8 (`invalid`). */
  text: string;
  /** The bytes are not UTF-8: the line is refused, never read with U+FFFD in their place. */
  invalid?: boolean;
  /** 1-based line number in the file. */
  number: number;
  /** Byte offset just after this line's "\n": where reading resumes. */
  end: number;
}

/**
 * Yields arrays of complete lines (one array per chunk read) starting at byte `from`, whose line
 * number is `firstLine`, up to byte `to` (the size the load planned for: what a writer appends
 * meanwhile waits for the next load). Arrays rather than single lines keep the per-line cost low.
 */
export async function* readLines(
  path: string,
  from: number,
  firstLine: number,
  to = Infinity,
): AsyncGenerator<Line[]> {
  const file = await openRegular(path, { read: true });
  // Strict, and a byte-order mark is kept (then refused as JSON), never stripped in silence.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    if (from > 0) await file.seek(from, Deno.SeekMode.Start);
    let pending = new Uint8Array(0);
    let offset = from; // file offset of pending[0]
    let number = firstLine;
    const chunk = new Uint8Array(CHUNK_BYTES);
    let position = from;
    while (position < to) {
      const room = Math.min(CHUNK_BYTES, to - position);
      const n = await file.read(room < CHUNK_BYTES ? chunk.subarray(0, room) : chunk);
      if (n === null) return; // what is left in pending has no "\n" yet
      position += n;
      const buffer = pending.length ? concat(pending, chunk.subarray(0, n)) : chunk.subarray(0, n);
      const last = buffer.lastIndexOf(NEWLINE);
      if (last === -1) {
        pending = buffer.slice();
        continue;
      }
      // One decode per chunk (per-line decodes cost more than the JSON parsing); byte offsets come
      // from the "\n" bytes themselves, which UTF-8 never uses inside a character.
      const parts = decodeLines(decoder, buffer.subarray(0, last));
      const lines: Line[] = new Array(parts.length);
      let nl = -1;
      for (let i = 0; i < parts.length; i++) {
        nl = buffer.indexOf(NEWLINE, nl + 1);
        const text = parts[i];
        lines[i] = text === null
          ? { text: "", invalid: true, number: number++, end: offset + nl + 1 }
          : { text, number: number++, end: offset + nl + 1 };
      }
      const start = last + 1;
      // Copy the tail: `chunk` is reused by the next read.
      pending = buffer.slice(start);
      offset += start;
      if (lines.length) yield lines;
    }
  } finally {
    file.close();
  }
}

/**
 * The lines of `bytes` (split at "\n"); null for a line that is not UTF-8. The whole chunk is
 * decoded at once, and only a chunk holding bad bytes is decoded line by line to find them.
 */
function decodeLines(decoder: TextDecoder, bytes: Uint8Array): (string | null)[] {
  try {
    return decoder.decode(bytes).split("\n");
  } catch {
    const out: (string | null)[] = [];
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(NEWLINE, start);
      const end = nl === -1 ? bytes.length : nl;
      try {
        out.push(decoder.decode(bytes.subarray(start, end)));
      } catch {
        out.push(null);
      }
      if (nl === -1) return out;
      start = nl + 1;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * A fingerprint of what was already read: SHA-256 of the first and the last 4 KiB before `upTo`.
 * If it changes, the file was rewritten under us and must be reloaded from the start. (A rewrite
 * that keeps both windows byte for byte and only changes the middle is not noticed.)
 */
export async function prefixHash(path: string, upTo: number): Promise<string> {
  const window = 4096;
  const file = await openRegular(path, { read: true });
  try {
    const headLength = Math.min(window, upTo);
    const tailStart = Math.max(headLength, upTo - window);
    const bytes = new Uint8Array(headLength + (upTo - tailStart));
    await readExactly(file, bytes.subarray(0, headLength), 0);
    await readExactly(file, bytes.subarray(headLength), tailStart);
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return `${upTo}:${
      Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
  } finally {
    file.close();
  }
}

async function readExactly(file: Deno.FsFile, into: Uint8Array, at: number): Promise<void> {
  await file.seek(at, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(into.subarray(filled));
    if (n === null) break; // shorter than expected: the hash will differ, which is the point
    filled += n;
  }
}
