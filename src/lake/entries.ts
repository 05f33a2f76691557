/**
 * The lake touches only regular files inside its root and follows no link (DESIGN.md, "The
 * lake"). A partition replaced by a symbolic link must not lead the writer to append to, or cut,
 * the file it points to, nor the loader to read it into the warehouse; a directory, a fifo or a
 * device where a file belongs must not stop anything either.
 *
 * Every open of a lake file goes through here: the entry is looked at without following it
 * (lstat), must be a regular file, and once open the descriptor must be that same file (fstat's
 * device and inode), which closes the race of an entry swapped between the look and the open.
 * New files are created exclusively (O_EXCL), which never follows a link either. Anything else
 * comes out as an UnsafeEntryError naming the path and what is there, for the caller to report
 * and skip (readers) or set aside (the writer, `clearWay`).
 */
import { DataError } from "../core/errors.ts";

/** What an entry of the lake is, in words for a report. */
export type EntryKind =
  | "regular file"
  | "symbolic link"
  | "directory"
  | "fifo"
  | "socket"
  | "device"
  | "special file";

/** An entry that is not what the lake keeps there: reported with its path, never followed. */
export interface UnsafeEntry {
  path: string;
  kind: EntryKind;
}

export class UnsafeEntryError extends DataError {
  readonly path: string;
  readonly kind: EntryKind;
  constructor(path: string, kind: EntryKind, what = "where the lake keeps a regular file") {
    super(`Skipped ${path}: a ${kind} ${what} (the lake follows no links)`);
    this.path = path;
    this.kind = kind;
  }
}

export function kindOf(info: Deno.FileInfo): EntryKind {
  if (info.isSymlink) return "symbolic link";
  if (info.isFile) return "regular file";
  if (info.isDirectory) return "directory";
  if (info.isFifo) return "fifo";
  if (info.isSocket) return "socket";
  if (info.isBlockDevice || info.isCharDevice) return "device";
  return "special file";
}

/** The entry at `path` without following it; undefined when there is none. */
export async function lstatIfExists(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The regular file at `path` (lstat), undefined when there is none; anything else throws. */
export async function regularFileInfo(path: string): Promise<Deno.FileInfo | undefined> {
  const info = await lstatIfExists(path);
  if (info && !info.isFile) throw new UnsafeEntryError(path, kindOf(info));
  return info;
}

/** Device and inode: which file an entry or a descriptor is. */
export interface FileIdentity {
  dev: number;
  ino: number | null;
}

/**
 * Opens the regular file at `path`, never through a link: NotFound when there is none, an
 * UnsafeEntryError for anything else or for a file swapped meanwhile. `expected`: the file must
 * also be the one listed earlier (a folder above it swapped for a link is noticed too).
 */
export async function openRegular(
  path: string,
  options: { read?: boolean; write?: boolean; append?: boolean },
  expected?: FileIdentity,
): Promise<Deno.FsFile> {
  const info = await regularFileInfo(path);
  if (!info) throw new Deno.errors.NotFound(`No such file: ${path}`);
  const file = await Deno.open(path, { ...options, create: false });
  try {
    const opened = await file.stat();
    const want = expected ?? info;
    if (!opened.isFile || opened.dev !== want.dev || opened.ino !== want.ino) {
      throw new UnsafeEntryError(path, "symbolic link", "swapped in while it was opened");
    }
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/** Creates `path` as a new, empty file; fails on anything there (a link included, unfollowed). */
export async function createNew(
  path: string,
  options: { write?: boolean; append?: boolean },
): Promise<Deno.FsFile> {
  return await Deno.open(path, { ...options, createNew: true });
}

/**
 * Opens the regular file at `path` for reading and writing, creating it if there is none; never
 * through a link (a lock file of the lake's own, whose text its owner rewrites).
 */
export async function openOrCreateRegular(path: string): Promise<Deno.FsFile> {
  for (let attempt = 0;; attempt++) {
    try {
      if (await regularFileInfo(path)) return await openRegular(path, { read: true, write: true });
      return await Deno.open(path, { read: true, write: true, createNew: true });
    } catch (error) {
      // Created or removed by someone else between the look and the open: look again, once.
      const raced = error instanceof Deno.errors.AlreadyExists ||
        error instanceof Deno.errors.NotFound;
      if (!raced || attempt > 0) throw error;
    }
  }
}

/** The bytes of the regular file at `path`; undefined when there is none. */
export async function readRegular(path: string): Promise<Uint8Array | undefined> {
  let file: Deno.FsFile;
  try {
    file = await openRegular(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = await file.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    return bytes.subarray(0, at);
  } finally {
    file.close();
  }
}

/** An entry moved out of the way by `clearWay`. */
export interface SetAside extends UnsafeEntry {
  movedTo: string;
}

let setAsideCounter = 0;

/**
 * Makes `path` (inside `root`) safe for the writer: every folder between the root and the file
 * a real folder (missing ones created), and at `path` nothing or a regular file. Whatever else
 * is found on the way (a link, a file where a folder belongs, a folder or a fifo where the file
 * belongs) is renamed aside in its own folder (renaming moves the entry itself, never what a
 * link points to) and returned, for the writer to report. The root itself is the operator's
 * choice and may be a link.
 */
export async function clearWay(root: string, path: string): Promise<SetAside[]> {
  if (!path.startsWith(`${root}/`)) {
    throw new DataError(`Refusing lake path ${path}: not inside the lake root ${root}`);
  }
  const parts = path.slice(root.length + 1).split("/");
  const moved: SetAside[] = [];
  let at = root;
  for (const [i, part] of parts.entries()) {
    at = `${at}/${part}`;
    const last = i === parts.length - 1;
    const info = await lstatIfExists(at);
    if (info === undefined) {
      if (!last) await mkdirIfMissing(at);
      continue;
    }
    if (last ? info.isFile : info.isDirectory) continue;
    const movedTo = `${at}.set-aside-${Date.now()}-${Deno.pid}-${++setAsideCounter}`;
    await Deno.rename(at, movedTo);
    moved.push({ path: at, kind: kindOf(info), movedTo });
    if (!last) await mkdirIfMissing(at);
  }
  return moved;
}

/** Creates one folder and syncs its parent, so the new entry survives a crash. */
async function mkdirIfMissing(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir);
    const parent = await Deno.open(dir.slice(0, dir.lastIndexOf("/")) || "/", { read: true });
    try {
      await parent.sync();
    } finally {
      parent.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    const info = await Deno.lstat(dir);
    if (!info.isDirectory) throw new UnsafeEntryError(dir, kindOf(info), "where a folder belongs");
  }
}
