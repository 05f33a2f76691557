/**
 * API accounts (ACCOUNTS table). Exports, stable for the service:
 *
 * - `createAccount(warehouse, name, by) → { account, token }`: a random 32-byte token (base64url), shown
 *   once; only its SHA-256 hex hash is stored.
 * - `disableAccount(warehouse, name, by) → Account`: the account can no longer authenticate.
 * - `listAccounts(sql) → Account[]`.
 * - `authenticate(sql, token) → Account | null`: null for unknown, malformed or disabled.
 * - `bootstrapAdmin(warehouse, adminToken, log?)`: makes ADMIN_TOKEN the token of account `admin` with
 *   admin on `*`. Idempotent; a changed ADMIN_TOKEN replaces the hash (and re-enables `admin`,
 *   so rotating the token is how access comes back after `accounts disable admin`).
 * - `hashToken(token)`.
 *
 * Why a fast hash: tokens are 256 random bits, so nobody can guess them from the hash by trying
 * candidates; slow password hashes (scrypt, argon2) only help for low-entropy human passwords.
 * A fast hash also lets us look an account up by the hash of the presented token.
 * Every function is async (either engine); changes run in one transaction with their audit row.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.ts";
import { type Logger, silentLogger } from "../core/log.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
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

export async function createAccount(
  warehouse: Warehouse,
  name: string,
  by: string,
  now: Date = new Date(),
): Promise<{ account: Account; token: string }> {
  assertAccountName(name);
  const token = newToken();
  const account = await warehouse.transaction(async (tx) => {
    if (await findAccountRow(tx, name)) {
      throw new ConflictError(`account ${name} already exists`);
    }
    await tx.run("INSERT INTO ACCOUNTS (NAME, TOKEN_HASH, CREATED_AT) VALUES (?, ?, ?)", [
      name,
      hashToken(token),
      now.toISOString(),
    ]);
    await audit(tx, { actor: by, action: "account.create", target: name, outcome: "ok" }, now);
    return toAccount((await findAccountRow(tx, name))!);
  });
  return { account, token };
}

export async function disableAccount(
  warehouse: Warehouse,
  name: string,
  by: string,
  now: Date = new Date(),
): Promise<Account> {
  return await warehouse.transaction(async (tx) => {
    const row = await findAccountRow(tx, name);
    if (!row) throw new NotFoundError(`unknown account ${name}`);
    if (row.DISABLED_AT === null) {
      await tx.run("UPDATE ACCOUNTS SET DISABLED_AT = ? WHERE ACCOUNT_ID = ?", [
        now.toISOString(),
        row.ACCOUNT_ID,
      ]);
      await audit(tx, { actor: by, action: "account.disable", target: name, outcome: "ok" }, now);
    }
    return toAccount((await findAccountRow(tx, name))!);
  });
}

export async function listAccounts(sql: Sql): Promise<Account[]> {
  return (await sql.all("SELECT * FROM ACCOUNTS ORDER BY NAME")).map(toAccount);
}

export async function authenticate(sql: Sql, token: string): Promise<Account | null> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return null;
  }
  const presented = hashToken(token);
  const row = await sql.get("SELECT * FROM ACCOUNTS WHERE TOKEN_HASH = ?", [presented]);
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

export async function bootstrapAdmin(
  warehouse: Warehouse,
  adminToken: string,
  log: Logger = silentLogger,
  now: Date = new Date(),
): Promise<BootstrapResult> {
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
  const result = await warehouse.transaction(async (tx) => {
    let result: BootstrapResult = "unchanged";
    const existing = await findAccountRow(tx, ADMIN_ACCOUNT);
    if (!existing) {
      await tx.run("INSERT INTO ACCOUNTS (NAME, TOKEN_HASH, CREATED_AT) VALUES (?, ?, ?)", [
        ADMIN_ACCOUNT,
        hash,
        at,
      ]);
      result = "created";
    } else if (existing.TOKEN_HASH !== hash) {
      await tx.run(
        "UPDATE ACCOUNTS SET TOKEN_HASH = ?, DISABLED_AT = NULL WHERE ACCOUNT_ID = ?",
        [hash, existing.ACCOUNT_ID],
      );
      result = "updated";
    }
    const id = (await findAccountRow(tx, ADMIN_ACCOUNT))!.ACCOUNT_ID;
    const grant = await tx.get(
      `SELECT ACCESS_LEVEL FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = '*'${tx.dialect.forUpdate}`,
      [id],
    );
    if (!grant) {
      await tx.run(
        "INSERT INTO PERMISSIONS (ACCOUNT_ID, TOPIC_NAME, ACCESS_LEVEL, GRANTED_AT, GRANTED_BY) " +
          "VALUES (?, '*', 'admin', ?, ?)",
        [id, at, actor],
      );
    } else if (grant.ACCESS_LEVEL !== "admin") {
      await tx.run(
        "UPDATE PERMISSIONS SET ACCESS_LEVEL = 'admin', GRANTED_AT = ?, GRANTED_BY = ? " +
          "WHERE ACCOUNT_ID = ? AND TOPIC_NAME = '*'",
        [at, actor, id],
      );
    }
    if ((!grant || grant.ACCESS_LEVEL !== "admin") && result === "unchanged") result = "updated";
    if (result !== "unchanged") {
      await audit(tx, {
        actor,
        action: "account.bootstrap",
        target: ADMIN_ACCOUNT,
        outcome: "ok",
        detail: { result },
      }, now);
    }
    return result;
  });
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

async function findAccountRow(sql: Sql, name: string): Promise<AccountRow | undefined> {
  return await sql.get("SELECT * FROM ACCOUNTS WHERE NAME = ?", [name]) as
    | AccountRow
    | undefined;
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
