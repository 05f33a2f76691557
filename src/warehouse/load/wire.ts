/**
 * What crosses between the load's threads (read_thread.ts, read_worker.ts) as plain data: a
 * batch packed so that the receiving (writing) thread copies it cheaply, and an error with its
 * class, code and cause (a structured copy keeps no class).
 */
import * as errors from "../../core/errors.ts";
import type { Feed } from "../../config/feeds.ts";
import type { Value } from "../records.ts";
import type { Batch, BatchRow } from "./types.ts";

/**
 * A batch without its feed (the main thread has it), its rows flat: every row's values one after
 * the other, line numbers and file indexes in typed arrays (copied as bytes), each file name once.
 * Unpacked, its rows are built from literals, cheaper than copying an object per row.
 */
export interface PackedBatch extends Omit<Batch, "feed" | "rows"> {
  width: number;
  values: Value[];
  lineNumbers: Int32Array;
  fileOf: Uint32Array;
  names: string[];
}

export function packBatch(batch: Batch): PackedBatch {
  const { feed: _, rows, ...rest } = batch;
  const width = batch.columns.length;
  const values: Value[] = new Array(rows.length * width);
  const lineNumbers = new Int32Array(rows.length);
  const fileOf = new Uint32Array(rows.length);
  const names: string[] = [];
  const index = new Map<string, number>();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let i = 0; i < width; i++) values[r * width + i] = row.values[i];
    lineNumbers[r] = row.line;
    let at = index.get(row.file);
    if (at === undefined) index.set(row.file, at = names.push(row.file) - 1);
    fileOf[r] = at;
  }
  return { ...rest, width, values, lineNumbers, fileOf, names };
}

export function unpackBatch(packed: PackedBatch, feed: Feed): Batch {
  const { width, values, lineNumbers, fileOf, names, ...rest } = packed;
  const rows: BatchRow[] = new Array(lineNumbers.length);
  for (let r = 0; r < lineNumbers.length; r++) {
    rows[r] = {
      values: values.slice(r * width, (r + 1) * width),
      file: names[fileOf[r]],
      line: lineNumbers[r],
    };
  }
  return { ...rest, feed, rows };
}

/** An error as it crosses the thread boundary: its class name, message, code and cause. */
export interface WireError {
  /** A DomainError's class name (rebuilt as that class), else the error's own name. */
  name: string;
  domain: boolean;
  message: string;
  code?: string;
  cause?: WireError;
}

const DOMAIN_ERRORS: Record<string, new (message: string, options?: ErrorOptions) => Error> = {
  ConfigError: errors.ConfigError,
  ValidationError: errors.ValidationError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  UnavailableError: errors.UnavailableError,
  DataError: errors.DataError,
  StorageError: errors.StorageError,
};

/** `error` as plain data, for postMessage (a structured copy keeps no class). */
export function toWire(error: unknown, depth = 0): WireError {
  const e = error as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  const domain = error instanceof errors.DomainError;
  return {
    name: typeof e?.name === "string" ? e.name : "Error",
    domain,
    message: typeof e?.message === "string" ? e.message : String(error),
    code: typeof e?.code === "string" ? e.code : undefined,
    cause: e?.cause !== undefined && depth < 3 ? toWire(e.cause, depth + 1) : undefined,
  };
}

/** The error again: a domain error as its own class, another as an Error of its name and code. */
export function fromWire(wire: WireError): Error {
  const options = wire.cause ? { cause: fromWire(wire.cause) } : undefined;
  const Type = wire.domain ? DOMAIN_ERRORS[wire.name] : undefined;
  if (Type) return new Type(wire.message, options);
  const error = new Error(wire.message, options);
  error.name = wire.name;
  if (wire.code !== undefined) Object.assign(error, { code: wire.code });
  return error;
}
