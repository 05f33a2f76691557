/**
 * Durable file operations: what "written" means for the lake. A file counts as written once its
 * bytes and its directory entry are on disk (fsync), so a crash after that loses nothing. Every
 * failure of the operating system (ENOSPC, EIO, …) comes out as a StorageError naming the path,
 * with the OS error as its cause. Files are opened through entries.ts: regular files only, never
 * through a link (an UnsafeEntryError otherwise).
 */
import { StorageError } from "../core/errors.ts";
import { createNew, openRegular, regularFileInfo } from "./entries.ts";

let tmpCounter = 0;

/** A StorageError for `action` on `path`: "Cannot append to /x: No space left on device (ENOSPC)". */
export function storageError(action: string, path: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const message = (cause as Error)?.message ?? String(cause);
  const code = (cause as { code?: unknown })?.code;
  const suffix = typeof code === "string" && !message.includes(code) ? ` [${code}]` : "";
  return new StorageError(`Cannot ${action} ${path}: ${message}${suffix}`, { cause });
}

/** True for what the operating system throws (ENOSPC, EIO, …), not for our own errors. */
export function isOsError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === "string" ||
    Object.values(Deno.errors).some((type) => error instanceof type);
}

/** Runs `work`, turning what the file system throws into a StorageError about `path`. */
async function io<T>(action: string, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isOsError(error) ? storageError(action, path, error) : error;
  }
}

/** Creates `dir` and any missing parents, syncing each parent that gained an entry. */
export function ensureDir(dir: string): Promise<void> {
  return io("create folder", dir, async () => {
    const missing: string[] = [];
    for (let d = dir; d && d !== "/" && d !== "."; d = parentOf(d)) {
      try {
        await Deno.stat(d);
        break;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        missing.push(d);
      }
    }
    if (missing.length === 0) return;
    await Deno.mkdir(dir, { recursive: true });
    for (const d of missing) await syncDir(parentOf(d));
  });
}

/** Appends `data` in one write call, syncs, and returns the file's new length. */
export function appendDurably(path: string, data: Uint8Array): Promise<number> {
  return io("append to", path, async () => {
    const file = await openOrCreate(path);
    try {
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      // fdatasync: data and the new size, without the timestamps a full fsync also flushes.
      await file.syncData();
      return (await file.stat()).size;
    } finally {
      file.close();
    }
  });
}

/** The regular file at `path` for appending, created (exclusively) if there is none. */
async function openOrCreate(path: string): Promise<Deno.FsFile> {
  if (await regularFileInfo(path)) return await openRegular(path, { append: true });
  try {
    return await createNew(path, { append: true });
  } catch (error) {
    // Someone created it between the look and the create: open what is there, if it is a file.
    if (error instanceof Deno.errors.AlreadyExists) {
      return await openRegular(path, { append: true });
    }
    throw error;
  }
}

/**
 * Replaces `path` atomically: writes a temp file in the same folder, syncs it, renames it over
 * the target and syncs the folder. Readers see the old file or the new one, never a mix. On a
 * failure before the rename the temp file is removed and the target is untouched.
 */
export async function replaceAtomically(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
): Promise<void> {
  await renameInto(await writeAside(path, data), path);
}

/** Writes `data` to a synced temp file beside `path` (removed on failure); returns its path. */
export function writeAside(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
): Promise<string> {
  const tmp = `${path}.tmp-${Deno.pid}-${++tmpCounter}`;
  return io("write", path, async () => {
    try {
      const file = await createNew(tmp, { write: true });
      try {
        for (const chunk of data instanceof Uint8Array ? [data] : data) {
          let written = 0;
          while (written < chunk.length) written += await file.write(chunk.subarray(written));
        }
        await file.sync();
      } finally {
        file.close();
      }
      return tmp;
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
  });
}

/** Renames a temp file from `writeAside` over `path` and syncs the folder. */
export function renameInto(tmp: string, path: string): Promise<void> {
  return io("write", path, async () => {
    try {
      await Deno.rename(tmp, path);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
    await syncDir(parentOf(path));
  });
}

/** Cuts a file back to `length` bytes (never extends it); returns the bytes dropped. */
export function truncateTo(path: string, length: number): Promise<number> {
  return io("truncate", path, async () => {
    const info = await regularFileInfo(path);
    if (!info || info.size <= length) return 0;
    const file = await openRegular(path, { write: true });
    try {
      const size = (await file.stat()).size;
      if (size <= length) return 0;
      await file.truncate(length);
      await file.sync();
      return size - length;
    } finally {
      file.close();
    }
  });
}

/** Size of a file, 0 when it does not exist. */
export async function sizeOf(path: string): Promise<number> {
  return (await sizeIfExists(path)) ?? 0;
}

/** Size of a regular file, undefined when there is none (an UnsafeEntryError for a link…). */
export function sizeIfExists(path: string): Promise<number | undefined> {
  return io("read the size of", path, async () => (await regularFileInfo(path))?.size);
}

/** Whether a regular file is at `path` (an UnsafeEntryError for a link, a folder…). */
export function exists(path: string): Promise<boolean> {
  return io("look for", path, async () => (await regularFileInfo(path)) !== undefined);
}

export function syncDir(dir: string): Promise<void> {
  return io("sync folder", dir, async () => {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  });
}

/** Identity of a file's current content: a rename gives a new inode, an append a new size. */
export interface FileStamp {
  ino: number | null;
  size: number;
  mtimeMs: number | null;
}

export async function stampOf(path: string): Promise<FileStamp | undefined> {
  return await io("read the status of", path, async () => {
    try {
      const info = await Deno.lstat(path); // the entry itself: a link swapped in is a change
      return { ino: info.ino, size: info.size, mtimeMs: info.mtime?.getTime() ?? null };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  });
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size &&
    a.mtimeMs === b.mtimeMs;
}

export function parentOf(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}
