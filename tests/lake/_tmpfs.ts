/** A small tmpfs for disk-full tests (needs root and mount; without, the tests are ignored, saying so). */
export interface Tmpfs {
  dir: string;
  /** Changes the size (e.g. "8m"): frees space without touching the files. */
  resize(size: string): Promise<void>;
  unmount(): Promise<void>;
}

async function run(args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(args[0], { args: args.slice(1), stderr: "piped" }).output();
    return { ok: out.success, text: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, text: (error as Error).message };
  }
}

/** Why no tmpfs can be mounted here (tried once, at load), with what to do; undefined if one can. */
export const TMPFS_MISSING: string | undefined = await (async () => {
  const probe = await mountTmpfs("1m");
  if (typeof probe === "string") return `${probe}; run the tests as root to include it`;
  await probe.unmount();
  return undefined;
})();

/** Mounts a tmpfs of `size`; a string says why it could not (the caller skips). */
export async function mountTmpfs(size: string): Promise<Tmpfs | string> {
  if (Deno.uid() !== 0) return "not root: cannot mount a tmpfs";
  const dir = await Deno.makeTempDir({ prefix: "dl-tmpfs-" });
  const mounted = await run(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  if (!mounted.ok) {
    await Deno.remove(dir).catch(() => {});
    return `mount -t tmpfs not allowed here (${mounted.text})`;
  }
  return {
    dir,
    async resize(next) {
      const r = await run(["mount", "-o", `remount,size=${next}`, dir]);
      if (!r.ok) throw new Error(`remount of ${dir} failed: ${r.text}`);
    },
    async unmount() {
      // Lazy: the lake lock file of a writer in this process may still be open on it.
      await run(["umount", "-l", dir]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Fills the file system of `dir` until `spare` bytes or less are left; returns the filler. */
export async function fillDisk(dir: string, spare: number): Promise<string> {
  const path = `${dir}/filler`;
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(16 * 1024);
  let size = 0;
  try {
    for (;;) size += await file.write(chunk);
  } catch {
    // full
  } finally {
    file.close();
  }
  await Deno.truncate(path, Math.max(0, size - spare));
  return path;
}
