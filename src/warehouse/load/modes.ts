/**
 * One small strategy per lake mode: which files a load reads, from where, and how rows land.
 *
 * - append (streams): every partition; a grown file resumes at the byte offset already loaded;
 *   rows are upserted by key (a duplicate key in the lake is an update, never a second row).
 * - overwrite (tables): only the latest snapshot file, read whole; upserted, and the last batch
 *   deletes the keys the snapshot no longer holds. A snapshot larger than one batch is applied
 *   over several short transactions (so no apply stalls the process): until the last one
 *   commits, readers may see new rows beside keys that are about to go.
 * - ignore (static): every partition, each row inserted once (later versions left out).
 */
import type { Feed, LakeMode } from "../../config/feeds.ts";

export interface ModeStrategy {
  /** Which of the feed's partitions (oldest first) the load looks at. */
  candidates<T>(partitions: T[]): T[];
  /** A grown file is read from where the last load stopped (else from the start). */
  resumes: boolean;
  /** How a row is written: upsert by key, or insert only when the key is new. */
  write: "upsert" | "insert";
  /** The table becomes exactly the file's content: keys missing from it are removed. */
  snapshot: boolean;
}

const STRATEGIES: Record<LakeMode, ModeStrategy> = {
  append: { candidates: (all) => all, resumes: true, write: "upsert", snapshot: false },
  overwrite: {
    candidates: (all) => all.slice(-1),
    resumes: false,
    write: "upsert",
    snapshot: true,
  },
  ignore: { candidates: (all) => all, resumes: true, write: "insert", snapshot: false },
};

export function strategyOf(feed: Feed): ModeStrategy {
  return STRATEGIES[feed.mode];
}
