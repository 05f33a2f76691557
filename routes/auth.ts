/**
 * Who is calling: `Authorization: Bearer <token>` checked by governance `authenticate` (hashed,
 * constant time). `identify` runs on every route and never fails; `requireAccount` turns a
 * missing or wrong token into 401, and `allowed` asks THE permission function, `can`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ForbiddenError, UnauthorizedError } from "../src/core/errors.ts";
import { authenticate } from "../src/governance/accounts.ts";
import { type AccessLevel, can, permissionsOf } from "../src/governance/permissions.ts";
import type { Sql } from "../src/warehouse/engine.ts";
import type { AppEnv } from "./deps.ts";

const BEARER = /^Bearer ([\x21-\x7e]+)$/;

export function identify(db: Sql): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("account", null);
    c.set("permissions", []);
    const header = c.req.header("Authorization");
    const token = header ? BEARER.exec(header.trim())?.[1] : undefined;
    const account = token ? await authenticate(db, token) : null;
    if (account) {
      c.set("account", account);
      c.set("permissions", await permissionsOf(db, account.id));
    }
    await next();
  };
}

/** 401 unless the caller presented a valid token. */
export const requireAccount: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("account")) {
    throw new UnauthorizedError("a valid token is required: Authorization: Bearer <token>");
  }
  await next();
};

/** 403 unless the caller has `level` on `feed` (or on `*` when no feed is named). */
export function allowed(c: Context<AppEnv>, level: AccessLevel, feed?: string): void {
  if (!can(c.get("permissions"), level, feed)) {
    const account = c.get("account")?.name ?? "anonymous";
    throw new ForbiddenError(
      feed
        ? `account ${account} may not ${level} feed ${feed}`
        : `account ${account} needs the ${level} permission on *`,
    );
  }
}

/** 403 middleware form of `allowed` for routes without a feed. */
export function requireLevel(level: AccessLevel): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    allowed(c, level);
    await next();
  };
}
