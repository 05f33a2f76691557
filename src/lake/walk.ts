/**
 * Every record file of the lake, for those who must see every record (erasure, the PII scan):
 * the feeds' partitions, the quarantine (`_rejected/`) and the consumers' table journals
 * (`_state/<group>.tables/<FEED>.jsonl`), in name order. The rest of `_state` holds no records.
 *
 * Only real folders are entered and only regular files yielded: a link, a fifo or a device is
 * never followed nor opened, and a folder named like a record file is not one. Each such entry
 * goes to `onUnsafe` with its path, for the caller to report.
 */
import { kindOf, type UnsafeEntry } from "./entries.ts";
import { JOURNALS_SUFFIX, normalizeRoot, STATE_DIR } from "./layout.ts";

export interface WalkOptions {
  /** Called with each entry skipped because it is not a real folder or a regular file. */
  onUnsafe?: (entry: UnsafeEntry) => void;
}

const RECORDS = ".jsonl";

/** Every record file (`.jsonl`) under the lake root. */
export function lakeFiles(root: string, options: WalkOptions = {}): AsyncGenerator<string> {
  return walk(normalizeRoot(root), "top", options);
}

async function* walk(
  dir: string,
  where: "top" | "feeds" | "state",
  options: WalkOptions,
): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    const records = entry.name.endsWith(RECORDS);
    if (entry.isDirectory && !records) {
      if (where === "top" && entry.name === STATE_DIR) yield* walk(path, "state", options);
      else if (where === "state") {
        if (entry.name.endsWith(JOURNALS_SUFFIX)) yield* journals(path, options);
      } else yield* walk(path, "feeds", options);
    } else if (entry.isFile) {
      if (records && where !== "state") yield path;
    } else {
      // A link, a fifo, a socket, a device; or a folder where a record file belongs.
      options.onUnsafe?.({ path, kind: kindOf(await Deno.lstat(path)) });
    }
  }
}

/** The table journals of one group: `<group>.tables/<FEED>.jsonl`, regular files only. */
async function* journals(dir: string, options: WalkOptions): AsyncGenerator<string> {
  const entries = await Array.fromAsync(Deno.readDir(dir));
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isFile) {
      if (entry.name.endsWith(RECORDS)) yield path;
    } else {
      options.onUnsafe?.({ path, kind: kindOf(await Deno.lstat(path)) });
    }
  }
}
