/** Running `deno task start serve` as a child: its port, its log events, its lake. */
import { partitionPath } from "../../src/lake/layout.ts";
import { spawnMain } from "../helpers/env.ts";

export { writeFeedsFile } from "../helpers/env.ts";

export interface Served {
  child: Deno.ChildProcess;
  port: number;
  /** Log events (JSON lines on stderr) seen so far. */
  events: Record<string, unknown>[];
  /** stdout and stderr text seen so far. */
  output: string[];
  url(path: string): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Starts serve and resolves once it listens (PORT=0 lets the OS pick a free port). */
export async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const child = spawnMain(["serve", ...args], { PORT: "0", ...env });
  const events: Record<string, unknown>[] = [];
  const output: string[] = [];
  let onEvent: () => void = () => {};
  const pump = async (stream: ReadableStream<Uint8Array>, parse: boolean) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (!parse) continue;
        try {
          events.push(JSON.parse(line));
        } catch {
          // not a log line
        }
        onEvent();
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout, false), pump(child.stderr, true)]);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not listen:\n${output.join("\n")}`)),
      30000,
    );
    onEvent = () => {
      const listening = events.find((e) => e.event === "serve.listening");
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening.port));
      }
    };
    child.status.then((s) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${s.code}:\n${output.join("\n")}`));
    });
  });
  return {
    child,
    port,
    events,
    output,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await pumps;
      return status.code;
    },
  };
}

/** Waits until `check` returns a value (not undefined), polling; fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 60000,
): Promise<T> {
  const until = Date.now() + ms;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Lines of one lake partition (0 when the file does not exist yet). */
export async function lakeLines(root: string, feed: string, day: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(partitionPath(root, feed, day));
    return text.split("\n").filter(Boolean);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
