/**
 * Hostile entries planted in a lake (issue 17 item 3): what an outside party leaves where the
 * lake keeps a regular file or folder. Each member records what it points to, so a test can
 * check that nothing outside (or elsewhere inside) the lake was read, written or removed.
 */
import { Logger } from "../../src/core/log.ts";

export type Member =
  | "link to a file outside"
  | "link to a file inside"
  | "directory in a file's place"
  | "fifo";

export const MEMBERS: readonly Member[] = [
  "link to a file outside",
  "link to a file inside",
  "directory in a file's place",
  "fifo",
];

export interface Planted {
  member: Member;
  path: string;
  /** The file a link points to (outside or inside the lake), with its content when planted. */
  target?: { path: string; content: string };
  /** What the entry is, as lstat sees it. */
  kind: "symbolic link" | "directory" | "fifo";
}

/**
 * Plants `member` at `path`. `content`: lines the link's target holds (records that must never
 * reach the lake or the warehouse). `inside`: a regular file of the lake for the inside link.
 */
export async function plant(
  member: Member,
  path: string,
  options: { outside: string; inside: string; content: string },
): Promise<Planted> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.remove(path, { recursive: true }).catch(() => {});
  switch (member) {
    case "link to a file outside": {
      const target = `${options.outside}/victim-${crypto.randomUUID()}.jsonl`;
      await Deno.writeTextFile(target, options.content);
      await Deno.symlink(target, path);
      return {
        member,
        path,
        target: { path: target, content: options.content },
        kind: "symbolic link",
      };
    }
    case "link to a file inside": {
      await Deno.mkdir(options.inside.slice(0, options.inside.lastIndexOf("/")), {
        recursive: true,
      });
      await Deno.writeTextFile(options.inside, options.content);
      await Deno.symlink(options.inside, path);
      return {
        member,
        path,
        target: { path: options.inside, content: options.content },
        kind: "symbolic link",
      };
    }
    case "directory in a file's place":
      await Deno.mkdir(path);
      await Deno.writeTextFile(`${path}/inner.txt`, options.content);
      return { member, path, kind: "directory" };
    case "fifo": {
      const made = await new Deno.Command("mkfifo", { args: [path] }).output();
      if (made.code !== 0) throw new Error(new TextDecoder().decode(made.stderr));
      return { member, path, kind: "fifo" };
    }
  }
}

/** The link's target is as it was planted: nothing appended, cut or removed through the link. */
export async function assertTargetUntouched(planted: Planted): Promise<void> {
  if (!planted.target) return;
  const now = await Deno.readTextFile(planted.target.path);
  if (now !== planted.target.content) {
    throw new Error(
      `${planted.member}: ${planted.target.path} changed through the link: ${JSON.stringify(now)}`,
    );
  }
}

/** A logger keeping its events, to find the one line that reports a path. */
export function recordingLogger(): { log: Logger; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const log = new Logger({
    level: "debug",
    sink: { write: (line) => events.push(JSON.parse(line)) },
  });
  return { log, events };
}

/** The warn events that name `path`. */
export function warningsAbout(events: Record<string, unknown>[], path: string) {
  return events.filter((e) => e.level === "warn" && JSON.stringify(e).includes(path));
}
