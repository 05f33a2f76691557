/**
 * What the three parts of a load hand each other: the plan (which files, from where), the batch
 * the reader makes of them (parsed rows, rejections, how far each file was read), and the counts
 * the apply step gives back. Plain data: no connection, no file handle.
 */
import type { UnsafeEntry } from "../../lake/entries.ts";
import type { Feed } from "../../config/feeds.ts";
import type { FileState } from "../bookkeeping.ts";
import type { Value } from "../records.ts";
import type { TableColumn } from "../schema.ts";

/** A lake file with what there is to read in it. */
export interface FileWork {
  path: string;
  /** `FEED/DATE/FILE`: the bookkeeping key and the rows' `_SOURCE_FILE`. */
  relative: string;
  /** Size and mtime when planned: reading stops at this size. */
  size: number;
  mtime: number | null;
  /** Byte offset and 1-based line number to start at. */
  from: number;
  firstLine: number;
  /** The file changed under what was loaded: delete its rows, reload from the start. */
  reset: boolean;
}

/** What the engine knows of a feed before its load. */
export interface FeedState {
  /** The table's data columns now (lineage and `_INFERRED` left out). */
  columns: TableColumn[];
  /** The bookkeeping of its lake files, by relative path. */
  files: Map<string, FileState>;
  /** Rows in its table (kept in the bookkeeping, not counted). */
  rows: number;
}

export interface FeedPlan {
  feed: Feed;
  work: FileWork[];
  /** Bytes left to read over all files. */
  bytes: number;
  /** A load that at least doubles a big table: the engine may drop secondary indexes meanwhile. */
  bulk: boolean;
  /** Lake entries that are not regular files (links…): reported, never read. */
  skipped: UnsafeEntry[];
}

export interface BatchRow {
  /** One value per column of `Batch.columns`, in that order. */
  values: Value[];
  file: string;
  line: number;
}

export interface LineRejection {
  file: string;
  line: number;
  reason: string;
}

/** One batch: applied in one transaction, or not at all. */
export interface Batch {
  feed: Feed;
  /** The same for every batch of a load: the rows' `_LOADED_AT`. */
  loadedAt: string;
  /** Files whose rows go first (reloaded from the start), relative paths. */
  resets: string[];
  /** Columns to add to the table before writing, in order. */
  newColumns: TableColumn[];
  /** The table's data columns after `newColumns`: what `rows[i].values` follow. */
  columns: string[];
  rows: BatchRow[];
  /** Lines the reader rejected (counted only once the batch commits). */
  rejections: LineRejection[];
  /** The bookkeeping to save with the batch: how far each file it touched was read. */
  files: FileState[];
  /** First batch of a bulk load: drop secondary indexes. Last batch: bring them back. */
  first: boolean;
  last: boolean;
  bulk: boolean;
  /** Snapshot feeds, last batch only: the keys the snapshot holds; other rows are removed. */
  keep?: Set<string>;
  /** Lines read (written, rejected or blank) and bytes covered, for progress. */
  lines: number;
  bytes: number;
}

export interface BatchCounts {
  inserted: number;
  updated: number;
  deleted: number;
  /** Placeholder rows created in referenced tables. */
  inferred: number;
  /** Rows the database refused (a constraint), on top of the batch's own rejections. */
  rejections: LineRejection[];
}
