/**
 * Planning a feed's load: which lake files have something new and where to start in each, from
 * a stat of each file and the bookkeeping. Reads files (stat, a prefix hash), never the database.
 */
import type { Feed } from "../../config/feeds.ts";
import { listPartitions } from "../../lake/layout.ts";
import { prefixHash } from "../lines.ts";
import { strategyOf } from "./modes.ts";
import type { FeedPlan, FeedState, FileWork } from "./types.ts";

/** Bulk loads: at least this many bytes to read... */
export const BULK_BYTES = 32 << 20;
/** ...and more new lines (estimated at this many bytes each) than the table has rows. */
const BULK_BYTES_PER_ROW = 512;

export async function planFeed(
  root: string,
  feed: Feed,
  state: FeedState,
  bulkBytes = BULK_BYTES,
): Promise<FeedPlan> {
  const strategy = strategyOf(feed);
  // Regular files only: links and the like are listed apart (`unsafe`), never read.
  const { partitions, unsafe } = await listPartitions(root, feed);
  const work: FileWork[] = [];
  for (const partition of strategy.candidates(partitions)) {
    const size = partition.bytes;
    const mtime = partition.mtimeMs;
    const relative = partition.relative;
    const known = state.files.get(relative);
    const file = { path: partition.path, relative, size, mtime };
    const whole = { ...file, from: 0, firstLine: 1, reset: false };
    if (!known) {
      work.push(whole);
    } else if (known.size === size && known.mtime === mtime && mtime !== null) {
      continue; // unchanged since the last load: nothing new
    } else if (!strategy.resumes) {
      work.push(whole);
    } else if (size < known.bytesRead) {
      work.push({ ...whole, reset: true }); // truncated
    } else if ((await prefixHash(partition.path, known.bytesRead)) !== known.headHash) {
      work.push({ ...whole, reset: true }); // rewritten
    } else if (size > known.bytesRead) {
      work.push({ ...file, from: known.bytesRead, firstLine: known.lines + 1, reset: false });
    }
  }
  const bytes = work.reduce((sum, w) => sum + w.size - w.from, 0);
  // Dropping foreign-key indexes for the load and rebuilding them once (a sort instead of a
  // random b-tree insert per row) pays off only when the table at least doubles.
  const bulk = feed.foreignKeys.length > 0 && bytes >= bulkBytes &&
    state.rows < bytes / BULK_BYTES_PER_ROW;
  return { feed, work, bytes, bulk, skipped: unsafe };
}
