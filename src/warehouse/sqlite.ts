/**
 * The embedded engine: the Warehouse interface over one node:sqlite connection. Statements run
 * synchronously (node:sqlite has no other mode); the promises only give both engines one shape.
 * Prepared statements are cached per SQL text, since callers send the same few statements often.
 */
import type { StatementSync } from "node:sqlite";
import { type Database, type OpenOptions, openWarehouse } from "./db.ts";
import { type Dialect, sqliteDialect } from "./dialect.ts";
import type {
  Row,
  RunResult,
  Sql,
  SqlValue,
  Statement,
  StatementList,
  StatementResult,
  Warehouse,
} from "./engine.ts";
import { asFileError } from "./load/storage.ts";

const STATEMENT_CACHE_LIMIT = 256;
const NO_ROWS: Row[] = [];
const NO_PARAMS: SqlValue[] = [];
/** The last transaction queued per database file (or per in-memory connection). */
const queues = new Map<unknown, Promise<void>>();
/** The connection holding a write transaction open per file (runStatements with `hold`). */
const holders = new Map<unknown, SqliteWarehouse>();
/**
 * How long a held transaction stays open at most: other processes wait for SQLite's write lock
 * meanwhile (busy_timeout), and the API reads (WAL snapshots) see the held rows only after it.
 */
export const HOLD_MS = 1000;

export class SqliteWarehouse implements Warehouse {
  readonly engine = "sqlite" as const;
  readonly label: string;
  readonly dialect: Dialect = sqliteDialect;
  readonly db: Database;
  readonly #statements = new Map<string, StatementSync>();
  readonly #path: string;
  /** While this connection holds a transaction: the timer that commits it at the latest. */
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  #holdSince = 0;
  /** A held commit that failed, thrown by this connection's next runStatements or close. */
  #heldFailure: unknown;

  constructor(db: Database, path: string) {
    this.db = db;
    this.#path = path;
    this.label = `sqlite:${path}`;
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.#settle(() => {
      if (this.#holdTimer !== undefined) this.#commitHeld();
      return this.#prepare(sql).all(...params) as Row[];
    });
  }

  get(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
    return this.#settle(() => {
      if (this.#holdTimer !== undefined) this.#commitHeld();
      return this.#prepare(sql).get(...params) as Row | undefined;
    });
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.#settle(() => {
      this.#releaseHolder();
      const { changes, lastInsertRowid } = this.#prepare(sql).run(...params);
      return { changes: Number(changes), lastInsertId: Number(lastInsertRowid) };
    });
  }

  /**
   * Transactions on one file queue up in this process, across its connections: a second
   * BEGIN IMMEDIATE while the first waits for a microtask would block the whole thread in
   * SQLite's busy handler, and the first could never finish.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.#inTurn(() => this.#transaction(fn));
  }

  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const key = this.#key;
    const turn = (queues.get(key) ?? Promise.resolve()).then(work);
    const settled = turn.then(() => {}, () => {});
    queues.set(key, settled);
    settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return turn;
  }

  get #key(): unknown {
    return this.#path === ":memory:" ? this : this.#path;
  }

  /** Another statement wants the file: a transaction held open by a load commits first. */
  #releaseHolder(): void {
    const holder = holders.get(this.#key);
    if (holder) holder.#commitHeld();
  }

  /** Commits this connection's held transaction; a failure waits for its next runStatements. */
  #commitHeld(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (holders.get(this.#key) === this) holders.delete(this.#key);
    try {
      if (this.db.isTransaction) this.db.exec("COMMIT");
    } catch (error) {
      this.#heldFailure ??= error;
      this.#rollback();
    }
  }

  async #transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    await this.#settle(() => {
      this.#releaseHolder();
      this.db.exec("BEGIN IMMEDIATE");
    });
    try {
      const result = await fn(this);
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * The list runs synchronously, in its turn among the file's transactions. With `hold`, the
   * transaction stays open after it (see Warehouse.runStatements) while this connection keeps
   * sending held lists, nobody else wants the file and it is younger than HOLD_MS. A list that
   * fails rolls back the held ones with it (the caller treats them as not committed).
   */
  runStatements<T>(make: () => StatementList<T>, options: { hold?: boolean } = {}): Promise<T> {
    return this.#inTurn(() => this.#runStatements(make, options.hold ?? false));
  }

  /** Errors as SQLite gave them: the caller says what it was doing (the load names the feed). */
  #runStatements<T>(make: () => StatementList<T>, hold: boolean): Promise<T> {
    return settle(() => {
      const holding = this.#holdTimer !== undefined;
      if (holding && performance.now() - this.#holdSince >= HOLD_MS) this.#commitHeld();
      else if (!holding) this.#releaseHolder();
      if (this.#heldFailure !== undefined) {
        const failure = this.#heldFailure;
        this.#heldFailure = undefined;
        throw failure;
      }
      if (this.#holdTimer === undefined) this.db.exec("BEGIN IMMEDIATE");
      try {
        const list = make();
        let step = list.next();
        while (!step.done) step = list.next(this.#execute(step.value));
        if (hold) this.#keepHeld();
        else this.#commitHeld();
        return step.value;
      } catch (error) {
        // The held lists before this one go with it: none of them was committed yet. (A
        // savepoint per list would keep them, but costs every list a copy of each page it
        // touches that an earlier one made dirty.) SQLite may already have rolled back (disk
        // full): only roll back what is still open.
        clearTimeout(this.#holdTimer);
        this.#holdTimer = undefined;
        if (holders.get(this.#key) === this) holders.delete(this.#key);
        this.#rollback();
        throw error;
      }
    });
  }

  /** The open transaction stays open, committed by the timer at the latest. */
  #keepHeld(): void {
    if (this.#holdTimer !== undefined) return;
    this.#holdSince = performance.now();
    holders.set(this.#key, this);
    const timer = setTimeout(() => this.#commitHeld(), HOLD_MS);
    Deno.unrefTimer(timer);
    this.#holdTimer = timer;
  }

  #rollback(): void {
    if (!this.db.isTransaction) return;
    try {
      this.db.exec("ROLLBACK");
    } catch { /* the error that led here says more */ }
  }

  #execute(statement: Statement): StatementResult {
    try {
      const prepared = this.#prepare(statement.sql);
      const params = statement.params ?? NO_PARAMS;
      if (statement.rows) return { changes: 0, rows: prepared.all(...params) as Row[] };
      return { changes: Number(prepared.run(...params).changes), rows: NO_ROWS };
    } catch (error) {
      if (statement.rowLevel && this.dialect.isRowError(error)) {
        return { changes: 0, rows: NO_ROWS, error };
      }
      throw error;
    }
  }

  close(): Promise<void> {
    if (this.#holdTimer !== undefined) this.#commitHeld();
    this.#statements.clear();
    if (this.db.isOpen) this.db.close();
    const failure = this.#heldFailure;
    this.#heldFailure = undefined;
    return failure === undefined ? Promise.resolve() : Promise.reject(failure);
  }

  /**
   * A failing statement rejects the promise instead of throwing at the call; a database that
   * cannot be used (locked, not a database, full) is one StorageError naming the file.
   */
  #settle<T>(fn: () => T): Promise<T> {
    return settle(fn).catch((error) => {
      throw asFileError(error, `Cannot use the warehouse ${this.#path}`);
    });
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) this.#statements.clear();
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/** A failing call rejects the promise instead of throwing at the call. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

export function openSqliteWarehouse(path: string, options: OpenOptions = {}): SqliteWarehouse {
  try {
    return new SqliteWarehouse(openWarehouse(path, options), path);
  } catch (error) {
    throw asFileError(error, `Cannot open the warehouse ${path}`);
  }
}
