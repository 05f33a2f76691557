/**
 * The consumer's checkpoint, kept in the lake beside the data it describes: per topic-partition
 * the next offset already durable in the lake, and per append file (partitions and quarantine)
 * its durable length. With it a restart after `kill -9` cuts off the lines of a batch that was
 * written but not checkpointed, and skips records already in the lake even when Kafka's
 * committed offset lags one batch behind: every record is in the lake exactly once.
 */
import { DataError } from "../core/errors.ts";
import { ensureDir, parentOf, replaceAtomically } from "./durable.ts";

interface CheckpointData {
  version: 1;
  /** "topic:partition" → next offset to write (decimal string). */
  offsets: Record<string, string>;
  /** Path relative to the lake root → durable length in bytes. */
  files: Record<string, number>;
}

const encoder = new TextEncoder();

export class Checkpoint {
  readonly path: string;
  #data: CheckpointData;

  private constructor(path: string, data: CheckpointData) {
    this.path = path;
    this.#data = data;
  }

  /** Reads the checkpoint at `path`, or starts an empty one (creating its folder). */
  static async open(path: string): Promise<Checkpoint> {
    await ensureDir(parentOf(path));
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return new Checkpoint(path, { version: 1, offsets: {}, files: {} });
      }
      throw error;
    }
    let data: CheckpointData;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new DataError(
        `Cannot read lake checkpoint ${path}: ${(error as Error).message}`,
      );
    }
    if (data?.version !== 1 || typeof data.offsets !== "object" || typeof data.files !== "object") {
      throw new DataError(`Cannot read lake checkpoint ${path}: unknown format`);
    }
    return new Checkpoint(path, data);
  }

  /** The next offset not yet in the lake for a topic-partition (undefined: none recorded). */
  nextOffset(topic: string, partition: number): bigint | undefined {
    const offset = this.#data.offsets[`${topic}:${partition}`];
    return offset === undefined ? undefined : BigInt(offset);
  }

  setNextOffset(topic: string, partition: number, offset: string): void {
    this.#data.offsets[`${topic}:${partition}`] = offset;
  }

  fileLength(relative: string): number | undefined {
    return this.#data.files[relative];
  }

  setFileLength(relative: string, length: number): void {
    this.#data.files[relative] = length;
  }

  forgetFile(relative: string): void {
    delete this.#data.files[relative];
  }

  files(): [string, number][] {
    return Object.entries(this.#data.files);
  }

  /** Writes the checkpoint atomically (temp file, fsync, rename, fsync folder). */
  async save(): Promise<void> {
    await replaceAtomically(this.path, encoder.encode(JSON.stringify(this.#data)));
  }
}
