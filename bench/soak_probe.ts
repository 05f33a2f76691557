/**
 * Looks inside a running `serve` started with `--inspect=127.0.0.1:PORT` (bench/soak.sh with
 * PROBE=1), through the V8 inspector protocol:
 *
 *   soak_probe.ts PORT memory            one line: rss heapTotal heapUsed external (MiB)
 *   soak_probe.ts PORT alloc SECONDS     where the JS allocations of the next SECONDS come from
 *                                        (sampling heap profiler), top functions by bytes
 *   soak_probe.ts PORT snapshot FILE     a full heap snapshot (after a GC) into FILE
 *
 * A bench tool only: the product never opens an inspector.
 */
const [portText, command = "memory", arg = ""] = Deno.args;
const port = Number(portText);

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

class Session {
  #socket: WebSocket;
  #next = 1;
  #pending = new Map<number, (message: Message) => void>();
  onEvent: (message: Message) => void = () => {};

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data as string) as Message;
      if (message.id !== undefined) this.#pending.get(message.id)?.(message);
      else this.onEvent(message);
    };
  }

  static async open(port: number): Promise<Session> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new Session(socket);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) =>
      this.#pending.set(id, (message) => {
        this.#pending.delete(id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result ?? {});
      })
    );
  }

  close(): void {
    this.#socket.close();
  }
}

const mib = (n: number) => (n / 1048576).toFixed(1);

async function memory(session: Session): Promise<void> {
  const result = await session.call("Runtime.evaluate", {
    expression: "JSON.stringify(Deno.memoryUsage())",
    returnByValue: true,
  }) as { result: { value: string } };
  const m = JSON.parse(result.result.value);
  console.log([m.rss, m.heapTotal, m.heapUsed, m.external].map(mib).join("\t"));
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

async function alloc(session: Session, seconds: number): Promise<void> {
  await session.call("HeapProfiler.enable");
  await session.call("HeapProfiler.startSampling", {
    samplingInterval: 16384,
    // Everything allocated while sampling, also what was collected since: the churn.
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const { profile } = await session.call("HeapProfiler.stopSampling") as {
    profile: { head: ProfileNode };
  };
  // Bytes by function (self), and by the nearest frame in our code (src/, app/, routes/).
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  let total = 0;
  const name = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^.*\/(registry\.npmjs\.org|lean|wt\/[^/]+)\//, "");
    return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const walk = (n: ProfileNode, owner: string) => {
    const url = n.callFrame.url;
    const mine = /\/(src|app|routes)\//.test(url) && !url.includes("registry.npmjs.org");
    const here = mine ? name(n) : owner;
    if (n.selfSize > 0) {
      total += n.selfSize;
      self.set(name(n), (self.get(name(n)) ?? 0) + n.selfSize);
      ours.set(here, (ours.get(here) ?? 0) + n.selfSize);
    }
    for (const child of n.children) walk(child, here);
  };
  walk(profile.head, "(outside our code)");
  console.log(`sampled allocations in ${seconds} s: ${mib(total)} MiB`);
  const top = (map: Map<string, number>, title: string) => {
    console.log(title);
    for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`  ${mib(bytes).padStart(7)} MiB  ${(100 * bytes / total).toFixed(1)}%  ${key}`);
    }
  };
  top(self, "by allocating function:");
  top(ours, "by nearest frame in src/, app/, routes/:");
}

async function snapshot(session: Session, file: string): Promise<void> {
  const chunks: string[] = [];
  session.onEvent = (message) => {
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") {
      chunks.push((message.params as { chunk: string }).chunk);
    }
  };
  await session.call("HeapProfiler.enable");
  await session.call("HeapProfiler.collectGarbage");
  await session.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  await Deno.writeTextFile(file, chunks.join(""));
}

const session = await Session.open(port);
try {
  if (command === "memory") await memory(session);
  else if (command === "alloc") await alloc(session, Number(arg || 30));
  else if (command === "snapshot") await snapshot(session, arg);
  else throw new Error(`unknown command ${command}`);
} finally {
  session.close();
}
