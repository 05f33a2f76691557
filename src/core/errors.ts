/**
 * Typed domain errors. Library code throws these; `main.ts` turns them into one line and an exit
 * code, and the HTTP error handler turns them into status codes. Messages are meant for people:
 * they say what was being done, what was wrong, and where.
 */
export class DomainError extends Error {
  /** HTTP status the API answers with; the CLI only uses it to pick an exit code. */
  readonly status: number = 500;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting, a feed declaration or FEEDS_FILE is wrong. Raised before anything connects. */
export class ConfigError extends DomainError {
  override readonly status = 500;
}

/** Input that breaks a rule: a bad argument, a record that does not fit its schema. */
export class ValidationError extends DomainError {
  override readonly status = 400;
}

/** A bad command line: unknown command, option or argument. The CLI exits with 2. */
export class UsageError extends ValidationError {}

/** An unknown feed, account, job or file. */
export class NotFoundError extends DomainError {
  override readonly status = 404;
}

/** No credentials, or credentials that match no active account. */
export class UnauthorizedError extends DomainError {
  override readonly status = 401;
}

/** Valid credentials without the permission the action needs. */
export class ForbiddenError extends DomainError {
  override readonly status = 403;
}

/** The action conflicts with the current state (a job already running, a name already taken). */
export class ConflictError extends DomainError {
  override readonly status = 409;
}

/** Kafka or another dependency cannot be reached. */
export class UnavailableError extends DomainError {
  override readonly status = 503;
}

/** Data in the lake or the warehouse that cannot be read or loaded. */
export class DataError extends DomainError {
  override readonly status = 422;
}

/**
 * The disk or a database file refused an operation: full (ENOSPC, SQLITE_FULL), failing (EIO),
 * read-only. The operation was rolled back. The message names the path; the original error is
 * the `cause`.
 */
export class StorageError extends DomainError {
  override readonly status = 507;
}
