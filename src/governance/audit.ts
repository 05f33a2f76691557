/**
 * The audit trail (AUDIT_LOG, append-only; see schema.ts).
 *
 * - `audit(sql, { actor, action, target?, outcome, detail? })`: inserts one row (a warehouse or
 *   a transaction of it). `detail` is an
 *   object stored as JSON text; fields whose name looks secret (token, password, ...) are
 *   replaced by "[redacted]" so a token can never land in the log.
 * - `recentAudit(sql, { limit?, action? })`: newest rows first, detail parsed back.
 * - `cliActor(env)`: the actor of command-line changes, `cli:<OS user>`.
 *
 * Action names are stable dotted words: account.create, account.disable, account.bootstrap,
 * permission.grant, permission.revoke, retention.delete_partition, retention.delete_rows,
 * retention.run, erasure.run (the service adds api.* and job.*).
 */
import { SECRET_FIELD } from "../core/log.ts";
import type { Sql } from "../warehouse/engine.ts";

export type AuditOutcome = "ok" | "denied" | "error";

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  id: number;
  at: string;
}

export async function audit(sql: Sql, entry: AuditEntry, now: Date = new Date()): Promise<void> {
  await sql.run(
    "INSERT INTO AUDIT_LOG (AT, ACTOR, ACTION, TARGET, OUTCOME, DETAIL) VALUES (?, ?, ?, ?, ?, ?)",
    [
      now.toISOString(),
      entry.actor,
      entry.action,
      entry.target ?? null,
      entry.outcome,
      entry.detail === undefined ? null : JSON.stringify(withoutSecrets(entry.detail)),
    ],
  );
}

export async function recentAudit(
  sql: Sql,
  options: { limit?: number; action?: string } = {},
): Promise<AuditRow[]> {
  const limit = options.limit ?? 100;
  const rows = options.action === undefined
    ? await sql.all("SELECT * FROM AUDIT_LOG ORDER BY AUDIT_ID DESC LIMIT ?", [limit])
    : await sql.all(
      "SELECT * FROM AUDIT_LOG WHERE ACTION = ? ORDER BY AUDIT_ID DESC LIMIT ?",
      [options.action, limit],
    );
  return rows.map((row) => ({
    id: Number(row.AUDIT_ID),
    at: String(row.AT),
    actor: String(row.ACTOR),
    action: String(row.ACTION),
    target: row.TARGET === null ? undefined : String(row.TARGET),
    outcome: row.OUTCOME as AuditOutcome,
    detail: row.DETAIL === null ? undefined : JSON.parse(String(row.DETAIL)),
  }));
}

/** Who made a change from the command line: `cli:<OS user>`, or `cli` when USER is unset. */
export function cliActor(env: { get(name: string): string | undefined } = Deno.env): string {
  const user = env.get("USER")?.trim();
  return user ? `cli:${user}` : "cli";
}

function withoutSecrets(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (SECRET_FIELD.test(key)) out[key] = "[redacted]";
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = withoutSecrets(value as Record<string, unknown>);
    } else out[key] = value;
  }
  return out;
}
