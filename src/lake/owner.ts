/**
 * One writer per lake root, for the writer's whole lifetime (DESIGN.md, "The lake"). Two
 * consumers on one root, whatever their groups, would overwrite each other's table snapshots and
 * cut each other's append files back to their own checkpoints; so the first one claims the root
 * and a second one is refused with one line naming the owner.
 *
 * The claim is a kernel lock (flock) on `<root>/_state/owner.lock`, taken without waiting and
 * held on an open file: the kernel drops it when the process ends in any way, `kill -9`
 * included, so there is never a stale claim to clean up. The file's text only says who holds
 * it (pid, host, since), for the refusal message; the lock is the truth.
 *
 * This is not the short lake lock (lock.ts) that erasure and retention take beside a running
 * writer: they do not write the lake as a consumer does, and may run while it owns the root.
 */
import { hostname } from "node:os";
import { ConflictError } from "../core/errors.ts";
import { ensureDir, storageError } from "./durable.ts";
import { kindOf, openOrCreateRegular, UnsafeEntryError } from "./entries.ts";
import { normalizeRoot, STATE_DIR } from "./layout.ts";

export const OWNER_FILE = "owner.lock";

/** The claim on a lake root. Release it once the writer is closed. */
export interface LakeOwner {
  readonly root: string;
  /** True until released. */
  held(): boolean;
  release(): void;
}

/** Who holds a claim, as its owner wrote it into the lock file. */
interface OwnerNote {
  pid: number;
  host: string;
  since: string;
}

/**
 * Claims `root` for one writer, or throws a ConflictError naming the current owner. The claim
 * lasts until `release()` or the end of the process.
 */
export async function claimLake(root: string): Promise<LakeOwner> {
  const base = normalizeRoot(root);
  const dir = `${base}/${STATE_DIR}`;
  const path = `${dir}/${OWNER_FILE}`;
  await ensureDir(dir);
  // The checkpoints live there: a link would put them (and their rewrites) outside the root.
  const state = await Deno.lstat(dir);
  if (!state.isDirectory) {
    throw new UnsafeEntryError(dir, kindOf(state), "where the lake keeps its state folder");
  }
  let file: Deno.FsFile;
  try {
    // No `truncate`: the owner's note must survive a refused claimant's open. Never through a
    // link: the note is written into this file.
    file = await openOrCreateRegular(path);
  } catch (error) {
    if (error instanceof UnsafeEntryError) throw error;
    throw storageError("open", path, error);
  }
  let locked = false;
  try {
    locked = await file.tryLock(true);
    if (!locked) {
      const note = await readNote(file);
      throw new ConflictError(
        `Cannot write the lake ${base}: another writer owns it${describe(note)}. One writer per ` +
          `lake root: stop that one, or give this one its own DATA_LAKE_DIR`,
      );
    }
    const note: OwnerNote = { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode(JSON.stringify(note) + "\n"));
  } catch (error) {
    file.close(); // closing also drops the lock, if we took it
    if (error instanceof ConflictError) throw error;
    throw storageError("lock", path, error);
  }
  let open = true;
  return {
    root: base,
    held: () => open,
    release() {
      if (!open) return;
      open = false;
      file.close(); // the kernel drops the lock with the last descriptor
    },
  };
}

async function readNote(file: Deno.FsFile): Promise<OwnerNote | undefined> {
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const bytes = new Uint8Array(512);
    const n = await file.read(bytes);
    const note = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n ?? 0)));
    if (typeof note?.pid === "number") return note;
  } catch {
    // being written right now, or not ours: the refusal does without it
  }
  return undefined;
}

function describe(note: OwnerNote | undefined): string {
  if (!note) return "";
  const host = note.host === hostname() ? "" : ` on ${note.host}`;
  return ` (pid ${note.pid}${host}, since ${note.since})`;
}
