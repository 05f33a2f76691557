/**
 * Walks the lake for record files: every `.jsonl` under the root, feeds and `_rejected/` alike,
 * in name order. Shared by erasure and the PII scan, which must both see every record.
 */
import { STATE_DIR } from "../lake/layout.ts";

/** Every `.jsonl` file under the lake root (the consumer's `_state` holds no records). */
export async function* lakeFiles(dir: string, top = true): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = `${dir.replace(/\/+$/, "")}/${entry.name}`;
    if (entry.isDirectory && !(top && entry.name === STATE_DIR)) yield* lakeFiles(path, false);
    else if (entry.isFile && entry.name.endsWith(".jsonl")) yield path;
  }
}
