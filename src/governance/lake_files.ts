/**
 * Walks the lake for record files: every `.jsonl` under the root — feeds, `_rejected/` and the
 * consumers' table journals (`_state/<group>.tables/`) — in name order. Shared by erasure and the
 * PII scan, which must both see every record. The rest of `_state` holds no records.
 */
import { JOURNALS_SUFFIX, STATE_DIR } from "../lake/layout.ts";

/** Every record file (`.jsonl`) under the lake root. */
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
    if (entry.isDirectory && top && entry.name === STATE_DIR) yield* journals(path);
    else if (entry.isDirectory) yield* lakeFiles(path, false);
    else if (entry.isFile && entry.name.endsWith(".jsonl")) yield path;
  }
}

/** The table journals in `_state`: `<group>.tables/<FEED>.jsonl`. */
async function* journals(state: string): AsyncGenerator<string> {
  for await (const path of lakeFiles(state, false)) {
    const folder = path.slice(state.length + 1).split("/");
    if (folder.length === 2 && folder[0].endsWith(JOURNALS_SUFFIX)) yield path;
  }
}
