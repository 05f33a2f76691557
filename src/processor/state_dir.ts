/**
 * The processor's local state folder (PROCESSOR_STATE_DIR), like Kafka Streams' state dir:
 *
 * - `<dir>/<group>/slot-<n>/instance.json`: the instance id of a slot. An instance claims the first
 *   slot whose `owner` file names no live process (a file created with link(2), which fails when
 *   it exists) and keeps it for its lifetime, so a restarted instance, even after SIGKILL, gets
 *   its predecessor's id back, hence its transactional ids: the broker then aborts whatever the
 *   predecessor left open at once, instead of after the transaction timeout. Several instances on
 *   one machine share the folder, one slot each. (An OS file lock cannot be tried without
 *   blocking in Deno, and a blocked lock call keeps a `--once` process from exiting.)
 * - `<dir>/<group>/<name>.json`: snapshots (one per stage and partition) of the state with the
 *   changelog offsets they cover (snapshots.ts), written aside and renamed: never half written.
 */
import { StorageError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

const MAX_SLOTS = 64;

export interface StateDir {
  /** This instance's id: stable across restarts in the same slot. */
  instanceId: string;
  /** Reads a JSON file of the group folder; undefined when missing or unreadable (logged). */
  read(name: string): Promise<unknown>;
  /** Writes a JSON file of the group folder atomically. */
  write(name: string, value: unknown): Promise<void>;
  close(): void;
}

export async function openStateDir(root: string, group: string, log: Logger): Promise<StateDir> {
  const folder = `${root}/${encodeURIComponent(group)}`;
  try {
    await Deno.mkdir(folder, { recursive: true });
  } catch (error) {
    throw new StorageError(`Cannot create PROCESSOR_STATE_DIR folder ${folder}`, { cause: error });
  }
  const slot = await claimSlot(folder);
  const idPath = `${folder}/slot-${slot}/instance.json`;
  let instanceId: string | undefined;
  try {
    instanceId = JSON.parse(await Deno.readTextFile(idPath)).instanceId;
  } catch {
    // a fresh slot
  }
  if (typeof instanceId !== "string" || !/^[0-9a-f-]{36}$/.test(instanceId)) {
    instanceId = crypto.randomUUID();
    await writeAtomic(idPath, JSON.stringify({ instanceId }));
  }
  // Detail: the folder and id matter when several instances share a machine, not at a glance.
  log.debug("processor.state_dir", { folder, slot, instanceId });
  return {
    instanceId,
    async read(name) {
      const path = `${folder}/${name}.json`;
      try {
        return JSON.parse(await Deno.readTextFile(path));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) {
          log.warn("processor.snapshot_unreadable", { path, error: (error as Error).message });
        }
        return undefined;
      }
    },
    async write(name, value) {
      await writeAtomic(`${folder}/${name}.json`, JSON.stringify(value));
    },
    close() {
      try {
        Deno.removeSync(`${folder}/slot-${slot}/owner`);
      } catch {
        // a later instance sees no live owner anyway
      }
    },
  };
}

async function claimSlot(folder: string): Promise<number> {
  const mine = JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const dir = `${folder}/slot-${slot}`;
    const owner = `${dir}/owner`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      const aside = `${owner}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(aside, mine);
      try {
        if (!(await ownedByLiveProcess(owner))) await Deno.remove(owner).catch(() => {});
        await Deno.link(aside, owner);
        return slot;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      } finally {
        await Deno.remove(aside).catch(() => {});
      }
    } catch (error) {
      throw new StorageError(`Cannot claim a slot in ${folder}`, { cause: error });
    }
  }
  throw new StorageError(`Cannot claim a slot in ${folder}: all ${MAX_SLOTS} are in use`);
}

/** Whether the slot's owner file names a process that still runs (Linux /proc). */
async function ownedByLiveProcess(owner: string): Promise<boolean> {
  let pid: unknown;
  try {
    pid = JSON.parse(await Deno.readTextFile(owner)).pid;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound || error instanceof SyntaxError) &&
      (error as Error) instanceof Error;
  }
  if (typeof pid !== "number" || pid === Deno.pid) return pid === Deno.pid;
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (error) {
    // Without /proc (not Linux), a slot in use elsewhere is never taken over.
    return !(error instanceof Deno.errors.NotFound) || !(await exists("/proc/self"));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const aside = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(aside, text);
    await Deno.rename(aside, path);
  } catch (error) {
    await Deno.remove(aside).catch(() => {});
    throw new StorageError(`Cannot write ${path}`, { cause: error });
  }
}
