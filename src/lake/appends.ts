/**
 * Append files of the lake (partitions, quarantine, table journals) against the checkpoint: the
 * repair on open, and each batch's appends with their rollback. A file's checkpointed length is
 * the truth: beyond it lie the lines of a batch that failed or was never checkpointed.
 */
import type { Logger } from "../core/log.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { clearWay } from "./entries.ts";
import {
  appendDurably,
  ensureDir,
  exists,
  parentOf,
  sizeIfExists,
  sizeOf,
  syncDir,
  truncateTo,
} from "./durable.ts";

/** Runs work that, if it fails, leaves the lake unlike the writer's state (it stops the writer). */
export type Guard = (work: () => Promise<void>) => Promise<void>;

const NEWLINE = 0x0a;

/** Lines bound for one file, concatenated into one buffer at write time. */
export class Pending {
  chunks: Uint8Array[] = [];
  bytes = 0;
  count = 0;
  /** Adds a line; `terminated` lines already end with their newline. */
  add(line: Uint8Array, terminated = false): void {
    this.chunks.push(line);
    this.bytes += line.length + (terminated ? 0 : 1);
    this.count++;
    if (!terminated) this.chunks.push(NEWLINE_CHUNK);
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
const NEWLINE_CHUNK = new Uint8Array([NEWLINE]);

export interface Target {
  path: string;
  pending: Pending;
}

/**
 * Makes the way to each of `paths` safe for writing (entries.ts `clearWay`): what is not a real
 * folder or a regular file there is set aside and reported, and the checkpoint forgets a file
 * set aside (what is there now is not ours: started afresh). True if the checkpoint changed.
 */
export async function clearPaths(
  root: string,
  checkpoint: Checkpoint,
  paths: Iterable<string>,
  log: Logger,
): Promise<boolean> {
  let changed = false;
  for (const path of paths) {
    for (const entry of await clearWay(root, path)) {
      log.warn("lake.entry_set_aside", {
        path: entry.path,
        kind: entry.kind,
        movedTo: entry.movedTo,
        reason: "the lake writes only regular files and follows no links",
      });
      const relative = path.slice(root.length + 1);
      if (checkpoint.fileLength(relative) !== undefined) {
        checkpoint.forgetFile(relative);
        changed = true;
      }
    }
  }
  return changed;
}

/** Cuts every checkpointed file back to its length (after a crash); forgets files now gone. */
export async function repairAppends(
  root: string,
  checkpoint: Checkpoint,
  log: Logger,
): Promise<void> {
  const files = checkpoint.files().map(([relative]) => `${root}/${relative}`);
  let changed = await clearPaths(root, checkpoint, files, log);
  for (const [relative, length] of checkpoint.files()) {
    const path = `${root}/${relative}`;
    if (!(await exists(path))) {
      // Removed since (retention): nothing to repair.
      checkpoint.forgetFile(relative);
      changed = true;
      continue;
    }
    const dropped = await truncateTo(path, length);
    if (dropped > 0) log.warn("lake.recovered", { file: relative, droppedBytes: dropped });
    const size = await sizeOf(path);
    if (size !== length) {
      // Shorter than checkpointed: edited since (erasure). Its current length is the truth.
      checkpoint.setFileLength(relative, size);
      changed = true;
    }
  }
  if (changed) await checkpoint.save();
}

/**
 * Appends each target's lines with one write. Each file is first checked against its
 * checkpointed length; a failure cuts every target back to where it was.
 */
export async function appendAll(
  root: string,
  checkpoint: Checkpoint,
  targets: Target[],
  guard: Guard,
): Promise<void> {
  const relativeOf = (path: string) => path.slice(root.length + 1);
  const fresh: string[] = [];
  const starts: number[] = [];
  let save = false;
  for (const { path } of targets) {
    const relative = relativeOf(path);
    const known = checkpoint.fileLength(relative);
    const size = await sizeIfExists(path);
    if (known === undefined || size === undefined) {
      // Never written by this group (what is there is not ours to cut back), or removed since
      // (retention deleted its folder): started afresh, folder included.
      await ensureDir(parentOf(path));
      checkpoint.setFileLength(relative, size ?? 0);
      fresh.push(path);
      save = true;
    } else if (size < known) {
      // Shrunk by an erasure that stopped before it updated the checkpoint: its size is true.
      checkpoint.setFileLength(relative, size);
      save = true;
    } else if (size > known) {
      await truncateTo(path, known); // the lines of a batch that failed here
    }
    starts.push(checkpoint.fileLength(relative)!);
  }
  // New files must be known before they get lines, or a crash would leave them uncut.
  if (save) await guard(() => checkpoint.save());
  try {
    for (const { path, pending } of targets) {
      const length = await appendDurably(path, pending.join());
      checkpoint.setFileLength(relativeOf(path), length);
    }
    for (const path of fresh) await syncDir(parentOf(path));
  } catch (error) {
    // Cut back; if even that fails, `guard` stops the writer. The batch's own error is the news.
    await guard(async () => {
      for (const [i, { path }] of targets.entries()) {
        checkpoint.setFileLength(relativeOf(path), starts[i]);
        await truncateTo(path, starts[i]);
      }
    }).catch(() => {});
    throw error;
  }
}
