/**
 * The server engine: the Warehouse interface over a mysql2 connection pool (pure JavaScript, so
 * it works inside the compiled binary). Every session runs with ANSI_QUOTES (double quotes are
 * identifiers, as in SQLite), strict mode (a value that does not fit its column is an error, not
 * a silent truncation), utf8mb4 with the binary collation, UTC, and InnoDB, so keys and foreign
 * keys are enforced. Values are always sent as `?` parameters.
 *
 * `changes` is the server's affected-rows count without CLIENT_FOUND_ROWS: an UPDATE counts the
 * rows it changed, an upsert 1 per inserted and 2 per updated row, an insert-or-ignore 0 for a
 * row already there.
 */
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import mysql from "mysql2/promise";
import type { MysqlTarget } from "../config/config.ts";
import { ConfigError, UnavailableError } from "../core/errors.ts";
import { type Dialect, mysqlDialect } from "./dialect.ts";
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

const SQL_MODE = [
  "ANSI_QUOTES",
  "PIPES_AS_CONCAT",
  "STRICT_ALL_TABLES",
  "NO_ZERO_IN_DATE",
  "NO_ZERO_DATE",
  "ERROR_FOR_DIVISION_BY_ZERO",
  "NO_ENGINE_SUBSTITUTION",
].join(",");
const SESSION_SETUP = `SET SESSION sql_mode = '${SQL_MODE}', time_zone = '+00:00', ` +
  `default_storage_engine = 'InnoDB', NAMES utf8mb4 COLLATE utf8mb4_bin`;

/** Errors that mean the server is not there (or refuses us), not that a statement is wrong. */
const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "ER_BAD_DB_ERROR",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
]);

/** Errors that waiting will not fix: the settings are wrong (a configuration error). */
const REFUSED: Record<string, string> = {
  ER_ACCESS_DENIED_ERROR: "the server refused the user or password",
  ER_DBACCESS_DENIED_ERROR: "the user may not use the database",
};

const DEADLOCK_RETRIES = 3;
/** Bytes of a LOAD DATA file sent per packet. */
const INFILE_CHUNK = 1 << 20;
/**
 * Error numbers of a server (local_infile=OFF) or client that does not allow LOAD DATA LOCAL:
 * ER_NOT_ALLOWED_COMMAND (MySQL 5), ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8) and MariaDB's
 * ER_LOAD_INFILE_CAPABILITY_DISABLED (4166, which mysql2 has no code name for).
 */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 4166]);

export interface MysqlOptions {
  /** Connections in the pool (default 8). */
  connections?: number;
}

type Queryable = Pick<mysql.PoolConnection, "query">;

export class MysqlWarehouse implements Warehouse {
  readonly engine = "mysql" as const;
  readonly label: string;
  readonly dialect: Dialect = mysqlDialect;
  readonly #pool: mysql.Pool;
  /** The refusal of the first LOAD DATA LOCAL, when the server does not allow it. */
  #localInfileRefused: unknown;
  readonly #where: string;

  constructor(target: MysqlTarget, options: MysqlOptions = {}) {
    this.#where = `${target.host}:${target.port}/${target.database}`;
    this.label = `mysql://${target.user}@${this.#where}`;
    this.#pool = mysql.createPool({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      connectionLimit: options.connections ?? 8,
      waitForConnections: true,
      connectTimeout: 10_000,
      charset: "UTF8MB4_BIN",
      supportBigNumbers: true,
      decimalNumbers: true,
      dateStrings: true,
      flags: ["-FOUND_ROWS"],
      enableKeepAlive: true,
    });
    // Runs first on every new connection: mysql2 queues a connection's commands in order.
    this.#pool.on("connection", (connection) => {
      connection.query(SESSION_SETUP);
    });
  }

  all(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.#all(this.#pool, sql, params);
  }

  async get(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
    return (await this.#all(this.#pool, sql, params))[0];
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<RunResult> {
    return this.#run(this.#pool, sql, params);
  }

  /** Checks that the server answers (one clear UnavailableError when it does not). */
  async ping(): Promise<void> {
    await this.#all(this.#pool, "SELECT 1 AS ok", []);
  }

  /**
   * InnoDB rolls a deadlocked transaction back whole; it is then run again (up to 3 times), so
   * `fn` must keep its effects inside `tx`, as every caller's does.
   */
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#transaction(fn);
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        if (code !== "ER_LOCK_DEADLOCK" || attempt >= DEADLOCK_RETRIES) throw error;
      }
    }
  }

  #transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.#onConnection((_connection, tx) => fn(tx));
  }

  /** `fn` in one transaction on a connection of the pool (also given, for LOAD DATA). */
  async #onConnection<T>(
    fn: (connection: mysql.PoolConnection, tx: Sql) => Promise<T>,
  ): Promise<T> {
    const connection = await this.#pool.getConnection().catch((error) => {
      throw this.#translate(error);
    });
    const tx: Sql = {
      dialect: this.dialect,
      all: (sql, params = []) => this.#all(connection, sql, params),
      get: async (sql, params = []) => (await this.#all(connection, sql, params))[0],
      run: (sql, params = []) => this.#run(connection, sql, params),
    };
    try {
      await this.#run(connection, "START TRANSACTION", []);
      const result = await fn(connection, tx);
      await this.#run(connection, "COMMIT", []);
      connection.release();
      return result;
    } catch (error) {
      try {
        await connection.query("ROLLBACK");
        connection.release();
      } catch {
        connection.destroy(); // a connection in an unknown state never goes back to the pool
      }
      throw error;
    }
  }

  /**
   * The list's statements awaited one by one in one transaction (`make` again after a deadlock).
   * `hold` is for SQLite: a server transaction costs no page rewrites.
   */
  async runStatements<T>(make: () => StatementList<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#onConnection(async (connection) => {
          const list = make();
          let step = list.next();
          while (!step.done) step = list.next(await this.#execute(connection, step.value));
          return step.value;
        });
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        if (code !== "ER_LOCK_DEADLOCK" || attempt >= DEADLOCK_RETRIES) throw error;
      }
    }
  }

  async #execute(connection: Queryable, statement: Statement): Promise<StatementResult> {
    try {
      const params = statement.params ?? [];
      if (statement.infile !== undefined) return await this.#load(connection, statement);
      if (statement.rows) {
        return { changes: 0, rows: await this.#all(connection, statement.sql, params) };
      }
      return { changes: (await this.#run(connection, statement.sql, params)).changes, rows: [] };
    } catch (error) {
      // InnoDB undoes only the failed statement; the transaction goes on.
      if (statement.rowLevel && this.dialect.isRowError(error)) {
        return { changes: 0, rows: [], error };
      }
      throw error;
    }
  }

  /**
   * LOAD DATA LOCAL INFILE: the server asks for the file, the text is sent as it. A server with
   * local_infile off refuses the statement and leaves the transaction as it was: the refusal is
   * the statement's error, so the caller writes those rows by statements, and the next LOAD DATA
   * is not even tried.
   */
  async #load(connection: Queryable, statement: Statement): Promise<StatementResult> {
    if (this.#localInfileRefused !== undefined) {
      return { changes: 0, rows: [], error: this.#localInfileRefused };
    }
    const bytes = Buffer.from(statement.infile ?? "", "utf8");
    // One packet per chunk: a packet holds less than 16 MiB.
    const chunks = function* () {
      for (let at = 0; at < bytes.length; at += INFILE_CHUNK) {
        yield bytes.subarray(at, at + INFILE_CHUNK);
      }
    };
    try {
      const [result] = await connection.query({
        sql: statement.sql,
        infileStreamFactory: () => Readable.from(chunks()),
      });
      const header = result as mysql.ResultSetHeader;
      return {
        changes: Number(header.affectedRows ?? 0),
        rows: [],
        warnings: Number(header.warningStatus ?? 0),
      };
    } catch (error) {
      if (LOCAL_INFILE_REFUSED.has(Number((error as { errno?: unknown })?.errno))) {
        this.#localInfileRefused = error;
        return { changes: 0, rows: [], error };
      }
      throw this.#translate(error);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }

  async #all(on: Queryable, sql: string, params: readonly SqlValue[]): Promise<Row[]> {
    try {
      const [rows] = await on.query(sql, bind(params));
      return Array.isArray(rows) ? rows as Row[] : [];
    } catch (error) {
      throw this.#translate(error);
    }
  }

  async #run(on: Queryable, sql: string, params: readonly SqlValue[]): Promise<RunResult> {
    try {
      const [result] = await on.query(sql, bind(params));
      const header = result as mysql.ResultSetHeader;
      return {
        changes: Number(header.affectedRows ?? 0),
        ...(header.insertId ? { lastInsertId: Number(header.insertId) } : {}),
      };
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    const code = String((error as { code?: unknown })?.code ?? "");
    if (code in REFUSED) {
      return new ConfigError(
        `Cannot use the MariaDB/MySQL warehouse at ${this.#where}: ${REFUSED[code]} ` +
          `(check WAREHOUSE_URL and WAREHOUSE_PASSWORD; ${code})`,
        { cause: error },
      );
    }
    if (!UNAVAILABLE.has(code)) return error;
    const reason = (error as Error).message || code;
    return new UnavailableError(
      `The MariaDB/MySQL warehouse at ${this.#where} is not available: ${reason} (${code})`,
      { cause: error },
    );
  }
}

/** mysql2 escapes numbers and strings itself; bigints go as their decimal text. */
function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((value) => typeof value === "bigint" ? value.toString() : value);
}
