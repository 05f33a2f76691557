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

export class SqliteWarehouse implements Warehouse {
  readonly engine = "sqlite" as const;
  readonly label: string;
  readonly dialect: Dialect = sqliteDialect;
  readonly db: Database;
  readonly #statements = new Map<string, StatementSync>();
  readonly #path: string;

  constructor(db: Database, path: string) {
    this.db = db;
    this.#path = path;
    this.label = `sqlite:${path}`;
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.#settle(() => this.#prepare(sql).all(...params) as Row[]);
  }

  get(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
    return this.#settle(() => this.#prepare(sql).get(...params) as Row | undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.#settle(() => {
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
    const key = this.#path === ":memory:" ? this : this.#path;
    const turn = (queues.get(key) ?? Promise.resolve()).then(work);
    const settled = turn.then(() => {}, () => {});
    queues.set(key, settled);
    settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return turn;
  }

  async #transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    await this.#settle(() => this.db.exec("BEGIN IMMEDIATE"));
    try {
      const result = await fn(this);
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The list runs synchronously from BEGIN to COMMIT, in its turn among the file's transactions. */
  runStatements<T>(make: () => StatementList<T>): Promise<T> {
    return this.#inTurn(() => this.#runStatements(make()));
  }

  /** Errors as SQLite gave them: the caller says what it was doing (the load names the feed). */
  #runStatements<T>(list: StatementList<T>): Promise<T> {
    return settle(() => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        let step = list.next();
        while (!step.done) step = list.next(this.#execute(step.value));
        this.db.exec("COMMIT");
        return step.value;
      } catch (error) {
        // SQLite may already have rolled back (disk full): only roll back what is still open.
        if (this.db.isTransaction) {
          try {
            this.db.exec("ROLLBACK");
          } catch { /* the original error says more */ }
        }
        throw error;
      }
    });
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
    this.#statements.clear();
    if (this.db.isOpen) this.db.close();
    return Promise.resolve();
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
