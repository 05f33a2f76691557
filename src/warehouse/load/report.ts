/** What a load reports: per table and in total. */

export interface Rejection {
  file: string;
  line: number;
  reason: string;
  /** `Cannot load FEED: reason (line N)` */
  message: string;
}

export interface TableReport {
  feed: string;
  /** Lake files read (new or grown since the last load). */
  files: number;
  inserted: number;
  updated: number;
  deleted: number;
  rejected: number;
  /** Placeholder rows this feed created in the tables its foreign keys reference. */
  inferred: number;
  ms: number;
  /** The first rejections (all are counted in `rejected`). */
  rejections: Rejection[];
}

/** The counts of a load, summed over its tables. */
export type LoadTotals = Pick<
  TableReport,
  "files" | "inserted" | "updated" | "deleted" | "rejected" | "inferred"
>;

export interface LoadReport {
  tables: TableReport[];
  totals: LoadTotals;
  ms: number;
  /** True when the signal stopped the load between batches (what was committed stays). */
  aborted: boolean;
}

export function emptyTableReport(feed: string): TableReport {
  return {
    feed,
    files: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    rejected: 0,
    inferred: 0,
    ms: 0,
    rejections: [],
  };
}

export function totalsOf(tables: TableReport[]): LoadTotals {
  const sum = (key: keyof LoadTotals) => tables.reduce((total, table) => total + table[key], 0);
  return {
    files: sum("files"),
    inserted: sum("inserted"),
    updated: sum("updated"),
    deleted: sum("deleted"),
    rejected: sum("rejected"),
    inferred: sum("inferred"),
  };
}
