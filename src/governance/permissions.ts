/**
 * Who may do what on which feed (PERMISSIONS table). Exports, stable for the service:
 *
 * - `can(permissions, action, feed?) → boolean`: THE decision, pure, used by every entry point.
 * - `grant(db, config, name, topic, level, by)`, `revoke(db, name, topic, by)`: audited changes.
 * - `listPermissions(db)`, `permissionsOf(db, accountId)` (empty for a disabled account).
 * - `ACCESS_LEVELS`, `parseAccessLevel(text)`.
 *
 * Rules: levels are ordered read < write < admin and a higher grant implies the lower ones; a
 * grant on a feed applies to that feed, a grant on `*` to every feed. Actions without a feed
 * (managing accounts, permissions and jobs: `can(p, "admin")`) need the level on `*` itself.
 */
import type { Config } from "../config/config.ts";
import { findFeed } from "../config/config.ts";
import { NotFoundError, ValidationError } from "../core/errors.ts";
import type { Database } from "../warehouse/db.ts";
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

export function grant(
  db: Database,
  config: Pick<Config, "feeds">,
  name: string,
  topic: string,
  level: string,
  by: string,
  now: Date = new Date(),
): GrantResult {
  const accessLevel = parseAccessLevel(level);
  assertTopic(config, topic);
  const account = activeAccountId(db, name);
  const before = db.prepare(
    "SELECT ACCESS_LEVEL FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?",
  ).get(account, topic);
  db.prepare(
    "INSERT INTO PERMISSIONS (ACCOUNT_ID, TOPIC_NAME, ACCESS_LEVEL, GRANTED_AT, GRANTED_BY) " +
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (ACCOUNT_ID, TOPIC_NAME) DO UPDATE SET " +
      "ACCESS_LEVEL = excluded.ACCESS_LEVEL, GRANTED_AT = excluded.GRANTED_AT, " +
      "GRANTED_BY = excluded.GRANTED_BY",
  ).run(account, topic, accessLevel, now.toISOString(), by);
  const previous = before ? before.ACCESS_LEVEL as AccessLevel : null;
  audit(db, {
    actor: by,
    action: "permission.grant",
    target: `${name}/${topic}`,
    outcome: "ok",
    detail: { account: name, topic, level: accessLevel, previous },
  }, now);
  return { account: name, topic, level: accessLevel, previous };
}

export function revoke(
  db: Database,
  name: string,
  topic: string,
  by: string,
  now: Date = new Date(),
): { account: string; topic: string; level: AccessLevel } {
  const row = db.prepare("SELECT ACCOUNT_ID FROM ACCOUNTS WHERE NAME = ?").get(name);
  if (!row) throw new NotFoundError(`unknown account ${name}`);
  const before = db.prepare(
    "SELECT ACCESS_LEVEL FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?",
  ).get(row.ACCOUNT_ID, topic);
  if (!before) throw new NotFoundError(`account ${name} has no permission on ${topic}`);
  db.prepare("DELETE FROM PERMISSIONS WHERE ACCOUNT_ID = ? AND TOPIC_NAME = ?")
    .run(row.ACCOUNT_ID, topic);
  const level = before.ACCESS_LEVEL as AccessLevel;
  audit(db, {
    actor: by,
    action: "permission.revoke",
    target: `${name}/${topic}`,
    outcome: "ok",
    detail: { account: name, topic, level },
  }, now);
  return { account: name, topic, level };
}

export function listPermissions(db: Database): PermissionRow[] {
  return db.prepare(
    "SELECT p.*, a.NAME FROM PERMISSIONS p JOIN ACCOUNTS a USING (ACCOUNT_ID) " +
      "ORDER BY a.NAME, p.TOPIC_NAME",
  ).all().map(toRow);
}

/** Grants of an account; none at all when the account is disabled or unknown. */
export function permissionsOf(db: Database, accountId: number): PermissionRow[] {
  return db.prepare(
    "SELECT p.*, a.NAME FROM PERMISSIONS p JOIN ACCOUNTS a USING (ACCOUNT_ID) " +
      "WHERE p.ACCOUNT_ID = ? AND a.DISABLED_AT IS NULL ORDER BY p.TOPIC_NAME",
  ).all(accountId).map(toRow);
}

function assertTopic(config: Pick<Config, "feeds">, topic: string): void {
  if (topic === ALL_TOPICS || findFeed(config, topic)) return;
  throw new NotFoundError(
    `unknown feed ${JSON.stringify(topic)}; use * or one of: ${
      config.feeds.map((f) => f.name).join(", ")
    }`,
  );
}

function activeAccountId(db: Database, name: string): number {
  const row = db.prepare("SELECT ACCOUNT_ID, DISABLED_AT FROM ACCOUNTS WHERE NAME = ?").get(name);
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
