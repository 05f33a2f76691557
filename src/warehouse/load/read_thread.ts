/**
 * readBatches (read.ts) on a thread of its own (read_worker.ts): the same batches, but the lake
 * is read, parsed and checked while the caller writes the batch before, one batch ahead (memory
 * stays one batch more than in-thread). Used for loads large enough to pay for the thread's start
 * (a few tens of milliseconds); a failure of the reader is its typed error here, at its turn.
 *
 * In a `deno compile`d binary the worker module is embedded by `--include` (compile.sh).
 */
import type { ColumnLimits } from "../limits.ts";
import type { TableColumn } from "../schema.ts";
import type { ReadOptions } from "./read.ts";
import type { Batch, FeedPlan } from "./types.ts";
import { fromWire, type PackedBatch, unpackBatch, type WireError } from "./wire.ts";

const WORKER_URL = new URL("./read_worker.ts", import.meta.url).href;

export type ReaderRequest =
  | {
    type: "start";
    plan: FeedPlan;
    columns: TableColumn[];
    options: { loadedAt: string; limits?: ColumnLimits; keepsNul?: boolean };
    /** Checkpoint this SQLite file meanwhile (checkpoints.ts). */
    checkpoint?: { path: string; sql: string };
  }
  | { type: "next"; rows: number }
  | { type: "stop" };

export type ReaderReply =
  | { type: "batch"; batch: PackedBatch }
  | { type: "done" }
  | { type: "stopped" }
  | { type: "error"; error: WireError };

/** Like readBatches, with the reading done on a Worker; the thread ends with the generator. */
export async function* readInThread(
  plan: FeedPlan,
  columns: TableColumn[],
  options: ReadOptions,
  checkpoint?: { path: string; sql: string },
): AsyncGenerator<Batch> {
  const worker = new Worker(WORKER_URL, { type: "module", name: `load ${plan.feed.name}` });
  const replies = new Replies(worker, plan.feed.name);
  let finished = false;
  try {
    const { batchRows, ...rest } = options;
    const start: ReaderRequest = { type: "start", plan, columns, options: rest, checkpoint };
    worker.postMessage(start);
    const ask = () => worker.postMessage({ type: "next", rows: batchRows() } as ReaderRequest);
    ask();
    while (true) {
      const reply = await replies.next();
      if (reply.type === "stopped") throw new Error("the lake reader stopped unasked");
      // The worker has closed its connection before any of these three.
      finished = reply.type !== "batch" || reply.batch.last;
      if (reply.type === "done") return;
      if (reply.type === "error") throw fromWire(reply.error);
      // The next batch is read while the caller writes this one.
      if (!reply.batch.last) ask();
      yield unpackBatch(reply.batch, plan.feed);
      if (reply.batch.last) return;
    }
  } finally {
    // Stopped early (a failed apply, an abort): the worker closes its connection first.
    if (!finished && !replies.dead) {
      worker.postMessage({ type: "stop" } as ReaderRequest);
      while ((await replies.next()).type !== "stopped" && !replies.dead);
    }
    worker.terminate();
  }
}

/** The worker's replies in order; a worker that dies (or cannot start) is an error reply. */
class Replies {
  readonly #queue: ReaderReply[] = [];
  #waiting: ((reply: ReaderReply) => void) | undefined;
  /** The worker died (or could not start): nothing more will come from it. */
  dead = false;

  constructor(worker: Worker, feed: string) {
    worker.onmessage = (event: MessageEvent<ReaderReply>) => this.#push(event.data);
    const failed = (message: string) =>
      this.#push({
        type: "error",
        error: {
          name: "DataError",
          domain: true,
          message: `Cannot load ${feed}: the lake reader stopped: ${message}`,
        },
      });
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault(); // the load fails, not the process
      this.dead = true;
      failed(event.message);
    };
    worker.onmessageerror = () => failed("a batch could not be read");
  }

  next(): Promise<ReaderReply> {
    const reply = this.#queue.shift();
    if (reply) return Promise.resolve(reply);
    return new Promise((resolve) => this.#waiting = resolve);
  }

  #push(reply: ReaderReply): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(reply);
    else this.#queue.push(reply);
  }
}
