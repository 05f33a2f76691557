/**
 * API accounts (ACCOUNTS table). Exports, stable for the service:
 *
 * - `createAccount(db, name, by) → { account, token }`: a random 32-byte token (base64url), shown
 *   once; only its SHA-256 hex hash is stored.
 * - `disableAccount(db, name, by) → Account`: the account can no longer authenticate.
 * - `listAccounts(db) → Account[]`.
 * - `authenticate(db, token) → Account | null`: null for unknown, malformed or disabled.
 * - `bootstrapAdmin(db, adminToken, log?)`: makes ADMIN_TOKEN the token of account `admin` with
 *   admin on `*`. Idempotent; a changed ADMIN_TOKEN replaces the hash (and re-enables `admin`,
 *   so rotating the token is how access comes back after `accounts disable admin`).
 * - `hashToken(token)`.
 *
 * Why a fast hash: tokens are 256 random bits, so nobody can guess them from the hash by trying
 * candidates; slow password hashes (scrypt, argon2) only help for low-entropy human passwords.
 * A fast hash also lets us look an account up by the hash of the presented token.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import type { Database } from "../warehouse/db.ts";
import { audit } from "./audit.ts";

export interface Account {
  id: number;
  name: string;
  createdAt: string;
  disabledAt: string | null;
}

/** Account names: short, printable and safe in URLs and logs. */
export const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const ADMIN_ACCOUNT = "admin";
const TOKEN_BYTES = 32;
/** Longer presented tokens are refused before hashing (ours are 43 characters). */
const MAX_TOKEN_LENGTH = 512;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function createAccount(
  db: Database,
  name: string,
  by: string,
  now: Date = new Date(),
): { account: Account; token: string } {
  assertAccountName(name);
  if (findAccountRow(db, name)) {
    throw new ConflictError(`account ${name} already exists`);
  }
  const token = newToken();
  db.prepare("INSERT INTO ACCOUNTS (NAME, TOKEN_HASH, CREATED_AT) VALUES (?, ?, ?)")
    .run(name, hashToken(token), now.toISOString());
  const account = toAccount(findAccountRow(db, name)!);
  audit(db, { actor: by, action: "account.create", target: name, outcome: "ok" }, now);
  return { account, token };
}

export function disableAccount(
  db: Database,
  name: string,
  by: string,
  now: Date = new Date(),
): Account {
  const row = findAccountRow(db, name);
  if (!row) throw new NotFoundError(`unknown account ${name}`);
  if (row.DISABLED_AT === null) {
    db.prepare("UPDATE ACCOUNTS SET DISABLED_AT = ? WHERE ACCOUNT_ID = ?")
      .run(now.toISOString(), row.ACCOUNT_ID);
    audit(db, { actor: by, action: "account.disable", target: name, outcome: "ok" }, now);
  }
  return toAccount(findAccountRow(db, name)!);
}

export function listAccounts(db: Database): Account[] {
  return db.prepare("SELECT * FROM ACCOUNTS ORDER BY NAME").all().map(toAccount);
}

export function authenticate(db: Database, token: string): Account | null {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return null;
  }
  const presented = hashToken(token);
  const row = db.prepare("SELECT * FROM ACCOUNTS WHERE TOKEN_HASH = ?").get(presented);
  if (!row) return null;
  // The lookup already matched; the constant-time comparison keeps the final decision free of
  // early-exit timing whatever the index does.
  const stored = Buffer.from(String(row.TOKEN_HASH), "hex");
  const given = Buffer.from(presented, "hex");
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null;
  if (row.DISABLED_AT !== null) return null;
  return toAccount(row);
}

export type BootstrapResult = "created" | "updated" | "unchanged";

export function bootstrapAdmin(
  db: Database,
  adminToken: string,
  log: Logger = silentLogger,
  now: Date = new Date(),
): BootstrapResult {
  if (adminToken.length === 0) throw new ValidationError("ADMIN_TOKEN is empty");
  if (adminToken.length < 16) {
    log.warn("governance.admin_token_short", {
      length: adminToken.length,
      advice: "use 32+ random characters",
    });
  }
  const hash = hashToken(adminToken);
  const at = now.toISOString();
  const actor = "bootstrap";
  let result: BootstrapResult = "unchanged";
  db.exec("BEGIN IMMEDIATE");
  try {
    const existing = findAccountRow(db, ADMIN_ACCOUNT);
    if (!existing) {
      db.prepare("INSERT INTO ACCOUNTS (NAME, TOKEN_HASH, CREATED_AT) VALUES (?, ?, ?)")
        .run(ADMIN_ACCOUNT, hash, at);
      result = "created";
    } else if (existing.TOKEN_HASH !== hash) {
      db.prepare("UPDATE ACCOUNTS SET TOKEN_HASH = ?, DISABLED_AT = NULL WHERE ACCOUNT_ID = ?")
        .run(hash, existing.ACCOUNT_ID);
      result = "updated";
    }
    const id = findAccountRow(db, ADMIN_ACCOUNT)!.ACCOUNT_ID;
    const granted = db.prepare(
      "INSERT INTO PERMISSIONS (ACCOUNT_ID, TOPIC_NAME, ACCESS_LEVEL, GRANTED_AT, GRANTED_BY) " +
        "VALUES (?, '*', 'admin', ?, ?) ON CONFLICT (ACCOUNT_ID, TOPIC_NAME) DO UPDATE SET " +
        "ACCESS_LEVEL = 'admin', GRANTED_AT = excluded.GRANTED_AT, GRANTED_BY = excluded.GRANTED_BY " +
        "WHERE ACCESS_LEVEL <> 'admin'",
    ).run(id, at, actor);
    if (granted.changes > 0 && result === "unchanged") result = "updated";
    if (result !== "unchanged") {
      audit(db, {
        actor,
        action: "account.bootstrap",
        target: ADMIN_ACCOUNT,
        outcome: "ok",
        detail: { result },
      }, now);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  log.info("governance.admin_bootstrap", { account: ADMIN_ACCOUNT, result });
  return result;
}

type AccountRow = {
  ACCOUNT_ID: number;
  NAME: string;
  TOKEN_HASH: string;
  CREATED_AT: string;
  DISABLED_AT: string | null;
};

function findAccountRow(db: Database, name: string): AccountRow | undefined {
  return db.prepare("SELECT * FROM ACCOUNTS WHERE NAME = ?").get(name) as AccountRow | undefined;
}

function toAccount(row: AccountRow | Record<string, unknown>): Account {
  return {
    id: Number(row.ACCOUNT_ID),
    name: String(row.NAME),
    createdAt: String(row.CREATED_AT),
    disabledAt: row.DISABLED_AT === null ? null : String(row.DISABLED_AT),
  };
}

function assertAccountName(name: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw new ValidationError(
      `account name ${JSON.stringify(name)} is not valid ` +
        "(letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64)",
    );
  }
}

function newToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url");
}
