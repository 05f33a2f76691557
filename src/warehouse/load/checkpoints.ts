/**
 * Checkpoints of SQLite's WAL on the load's reader thread (read_worker.ts), from a connection of
 * its own: a passive checkpoint copies what the load committed back into the database file while
 * the main thread goes on writing (it takes no write lock and waits for nobody), so the writer's
 * commits no longer do that copy on the thread that also answers the API. The writer keeps its
 * own automatic checkpoint as the backstop (dialect.ts, loadSession).
 */
import { type Database, openWarehouse } from "../db.ts";

/** How often the reader thread checkpoints while a load runs. */
const EVERY_MS = 250;

/** Starts the checkpoints; the returned function stops them and closes the connection. */
export function startCheckpoints(path: string, sql: string): () => void {
  let db: Database | undefined = openWarehouse(path);
  const timer = setInterval(() => {
    try {
      db?.exec(sql);
    } catch {
      // The next one tries again, and the writer's own checkpoint remains; a disk that fails
      // is reported by the writer's commit, which the load's error names.
    }
  }, EVERY_MS);
  return () => {
    clearInterval(timer);
    db?.close();
    db = undefined;
  };
}
