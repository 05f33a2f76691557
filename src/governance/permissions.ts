/**
 * Who may do what on which feed (PERMISSIONS table). Exports, stable for the service:
 *
 * - `can(permissions, action, feed?) → boolean`: THE decision, pure, used by every entry point.
 * - `grant(warehouse, config, name, topic, level, by)`, `revoke(warehouse, name, topic, by)`:
 *   audited changes, each in one transaction with its audit row.
 * - `listPermissions(sql)`, `permissionsOf(sql, accountId)` (empty for a disabled account).
 * - `ACCESS_LEVELS`, `parseAccessLevel(text)`.
 *
 * Rules: levels are ordered read < write < admin and a higher grant implies the lower ones; a
 * grant on a feed applies to that feed, a grant on `*` to every feed. Actions without a feed
 * (managing accounts, permissions and jobs: `can(p, "admin")`) need the level on `*` itself.
 */
import type { Config } from "../config/config.ts";
import { findFeed } from "../config/config.ts";
import { NotFoundError, ValidationError } from "../core/errors.ts";
import type { Sql, Warehouse } from "../warehouse/engine.ts";
import { audit } from "./audit.ts";

export const ACCESS_LEVELS = ["read", "write", "admin"] as const;
export type AccessLevel = typeof ACCESS_LEVELS[number];
export const ALL_TOPICS = "*";

/** What `can` needs of a grant. */
export interface Permission {
  topic: string;
  level: AccessLevel;
}

/** A grant as stored, with who it belongs to and who gave it. */
export interface PermissionRow extends Permission {
  accountId: number;
  account: string;
  grantedAt: string;
  grantedBy: string;
}

const RANK: Record<AccessLevel, number> = { read: 1, write: 2, admin: 3 };

export function can(
  permissions: readonly Permission[],
  action: AccessLevel,
  feed?: string,
): boolean {
  const needed = RANK[action];
  if (needed === undefined) return false;
  return permissions.some((p) =>
    RANK[p.level] >= needed && (p.topic === ALL_TOPICS || (feed !== undefined && p.topic === feed))
  );
}

export function parseAccessLevel(text: string): AccessLevel {
  if (!(ACCESS_LEVELS as readonly string[]).includes(text)) {
    throw new ValidationError(
      `access level ${JSON.stringify(text)} is not one of ${ACCESS_LEVELS.join(", ")}`,
    );
  }
  return text as AccessLevel;
}

export interface GrantResult {
  account: string;
  topic: string;
  level: AccessLevel;
  previous: AccessLevel | null;
}

export async function grant(
  warehouse: Warehouse,
  config: Pick<Config, "feeds">,
  name: string,
  topic: string,
  level: string,
  by: string,
  now: Date = new Date(),
): Promise<GrantResult> {
  const accessLevel = parseAccessLevel(level);
  assertTopic(config, topic);
  return await warehouse.transaction(async (tx) => {
    const account = await activeAccountId(tx, name);
    const before = await tx.get(
      `SELECT ACCESS_LEVEL FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?${tx.dialect.forUpdate}`,
      [account, topic],
    );
    await tx.run(
      tx.dialect.upsert(
        "PERMISSIONS",
        ["ACCOUNT_ID", "TOPIC_NAME", "ACCESS_LEVEL", "GRANTED_AT", "GRANTED_BY"],
        ["ACCOUNT_ID", "TOPIC_NAME"],
      ),
      [account, topic, accessLevel, now.toISOString(), by],
    );
    const previous = before ? before.ACCESS_LEVEL as AccessLevel : null;
    await audit(tx, {
      actor: by,
      action: "permission.grant",
      target: `${name}/${topic}`,
      outcome: "ok",
      detail: { account: name, topic, level: accessLevel, previous },
    }, now);
    return { account: name, topic, level: accessLevel, previous };
  });
}

export async function revoke(
  warehouse: Warehouse,
  name: string,
  topic: string,
  by: string,
  now: Date = new Date(),
): Promise<{ account: string; topic: string; level: AccessLevel }> {
  return await warehouse.transaction(async (tx) => {
    const row = await tx.get("SELECT ACCOUNT_ID FROM ACCOUNTS WHERE NAME = ?", [name]);
    if (!row) throw new NotFoundError(`unknown account ${name}`);
    const before = await tx.get(
      `SELECT ACCESS_LEVEL FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?${tx.dialect.forUpdate}`,
      [row.ACCOUNT_ID, topic],
    );
    if (!before) throw new NotFoundError(`account ${name} has no permission on ${topic}`);
    await tx.run("DELETE FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?", [
      row.ACCOUNT_ID,
      topic,
    ]);
    const level = before.ACCESS_LEVEL as AccessLevel;
    await audit(tx, {
      actor: by,
      action: "permission.revoke",
      target: `${name}/${topic}`,
      outcome: "ok",
      detail: { account: name, topic, level },
    }, now);
    return { account: name, topic, level };
  });
}

export async function listPermissions(sql: Sql): Promise<PermissionRow[]> {
  return (await sql.all(
    "SELECT p.*, a.NAME FROM PERMISSIONS p JOIN ACCOUNTS a ON a.ACCOUNT_ID = p.ACCOUNT_ID " +
      "ORDER BY a.NAME, p.TOPIC_NAME",
  )).map(toRow);
}

/** Grants of an account; none at all when the account is disabled or unknown. */
export async function permissionsOf(sql: Sql, accountId: number): Promise<PermissionRow[]> {
  return (await sql.all(
    "SELECT p.*, a.NAME FROM PERMISSIONS p JOIN ACCOUNTS a ON a.ACCOUNT_ID = p.ACCOUNT_ID " +
      "WHERE p.ACCOUNT_ID = ? AND a.DISABLED_AT IS NULL ORDER BY p.TOPIC_NAME",
    [accountId],
  )).map(toRow);
}

function assertTopic(config: Pick<Config, "feeds">, topic: string): void {
  if (topic === ALL_TOPICS || findFeed(config, topic)) return;
  throw new NotFoundError(
    `unknown feed ${JSON.stringify(topic)}; use * or one of: ${
      config.feeds.map((f) => f.name).join(", ")
    }`,
  );
}

async function activeAccountId(sql: Sql, name: string): Promise<number> {
  const row = await sql.get("SELECT ACCOUNT_ID, DISABLED_AT FROM ACCOUNTS WHERE NAME = ?", [name]);
  if (!row) throw new NotFoundError(`unknown account ${name}`);
  if (row.DISABLED_AT !== null) {
    throw new ValidationError(`account ${name} is disabled; create a new account instead`);
  }
  return Number(row.ACCOUNT_ID);
}

function toRow(row: Record<string, unknown>): PermissionRow {
  return {
    accountId: Number(row.ACCOUNT_ID),
    account: String(row.NAME),
    topic: String(row.TOPIC_NAME),
    level: row.ACCESS_LEVEL as AccessLevel,
    grantedAt: String(row.GRANTED_AT),
    grantedBy: String(row.GRANTED_BY),
  };
}
