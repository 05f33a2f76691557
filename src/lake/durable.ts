/**
 * Durable file operations: what "written" means for the lake. A file counts as written once its
 * bytes and its directory entry are on disk (fsync), so a crash after that loses nothing.
 */

let tmpCounter = 0;

/** Creates `dir` and any missing parents, syncing each parent that gained an entry. */
export async function ensureDir(dir: string): Promise<void> {
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
}

/** Appends `data` in one write call, syncs, and returns the file's new length. */
export async function appendDurably(path: string, data: Uint8Array): Promise<number> {
  const file = await Deno.open(path, { append: true, create: true });
  try {
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    // fdatasync: data and the new size, without the timestamps a full fsync also flushes.
    await file.syncData();
    return (await file.stat()).size;
  } finally {
    file.close();
  }
}

/**
 * Replaces `path` atomically: writes a temp file in the same folder, syncs it, renames it over
 * the target and syncs the folder. Readers see the old file or the new one, never a mix.
 */
export async function replaceAtomically(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${++tmpCounter}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  await syncDir(parentOf(path));
}

/** Cuts a file back to `length` bytes (never extends it); returns the bytes dropped. */
export async function truncateTo(path: string, length: number): Promise<number> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  if (size <= length) return 0;
  const file = await Deno.open(path, { write: true });
  try {
    await file.truncate(length);
    await file.sync();
  } finally {
    file.close();
  }
  return size - length;
}

/** Size of a file, 0 when it does not exist. */
export async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

export function parentOf(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}
