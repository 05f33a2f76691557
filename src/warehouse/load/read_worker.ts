/**
 * The lake reader's thread (a Worker, started by read_thread.ts): reads, parses and checks the
 * planned lines (read.ts, the one record validator) while the main thread writes the batch
 * before, so on two cores the parsing overlaps the inserts. On SQLite it also checkpoints the
 * WAL meanwhile (checkpoints.ts, a connection of its own that never writes rows).
 *
 * Protocol: `start` (the plan), then one `next` per batch wanted, each answered by a `batch`
 * (packed, wire.ts), `done`, or `error` (typed in here, rebuilt there); `stop` ends early and is
 * answered by `stopped` once the checkpoint connection is closed.
 */
import { startCheckpoints } from "./checkpoints.ts";
import { readBatches } from "./read.ts";
import { asStorageError } from "./storage.ts";
import type { Batch } from "./types.ts";
import type { ReaderReply, ReaderRequest } from "./read_thread.ts";
import { packBatch, toWire, type WireError } from "./wire.ts";

interface Port {
  postMessage(message: ReaderReply): void;
  onmessage: ((event: MessageEvent<ReaderRequest>) => void) | null;
  close(): void;
}

// Only inside a Worker (importing this module elsewhere starts nothing).
const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown }).WorkerGlobalScope;
if (scope !== undefined && globalThis instanceof scope) serve(globalThis as unknown as Port);

function serve(port: Port): void {
  let batches: AsyncGenerator<Batch> | undefined;
  let rows = 1000;
  let feed = "";
  // Requests are answered one after the other (a `next` waits for the read before it).
  let turn = Promise.resolve();
  port.onmessage = ({ data }) => {
    turn = turn.then(() => handle(data));
  };

  let stopCheckpoints = () => {};

  async function handle(request: ReaderRequest): Promise<void> {
    try {
      if (request.type === "start") {
        feed = request.plan.feed.name;
        batches = readBatches(request.plan, request.columns, {
          ...request.options,
          batchRows: () => rows,
        });
        const checkpoint = request.checkpoint;
        if (checkpoint) stopCheckpoints = startCheckpoints(checkpoint.path, checkpoint.sql);
        return;
      }
      if (request.type === "stop") {
        stopCheckpoints();
        await batches?.return(undefined);
        return port.postMessage({ type: "stopped" });
      }
      rows = request.rows;
      const step = await batches!.next();
      // Nothing follows the last batch: the connection closes before the main thread hears.
      if (step.done || step.value.last) stopCheckpoints();
      if (step.done) return port.postMessage({ type: "done" });
      port.postMessage({ type: "batch", batch: packBatch(step.value) });
    } catch (error) {
      stopCheckpoints();
      port.postMessage({ type: "error", error: describe(error, feed) });
    }
  }
}

/** Typed here (a storage failure is a StorageError), copied as plain data. */
function describe(error: unknown, feed: string): WireError {
  return toWire(asStorageError(error, `Cannot load ${feed}: cannot read the lake`));
}
