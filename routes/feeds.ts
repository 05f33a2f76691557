/**
 * GET /feeds (those the caller may read), GET /feeds/:feed/rows (read), POST
 * /feeds/:feed/records (write). A name that is not a declared feed is 404 before anything else,
 * so no odd name ever reaches a path or a query.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { findFeed } from "../src/config/config.ts";
import { type Feed, recordKey } from "../src/config/feeds.ts";
import { NotFoundError, ValidationError } from "../src/core/errors.ts";
import { can } from "../src/governance/permissions.ts";
import { fieldNameProblem, shown } from "../src/contract/names.ts";
import { recordProblem } from "../src/contract/record.ts";
import { lazyProducer } from "../src/kafka/lazy_producer.ts";
import { topicSpecForFeed } from "../src/kafka/topics.ts";
import { readRows } from "../src/warehouse/query.ts";
import { allowed, requireAccount } from "./auth.ts";
import { jsonBody } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";

/** Most records one POST may carry. */
export const MAX_RECORDS_PER_POST = 1000;
const PAGING_PARAMS = new Set(["limit", "cursor"]);

export function feedRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireAccount);
  // Connects on first use and again after an outage (a failed connection is not kept).
  const producer = lazyProducer(deps.kafka, (topic) => {
    const feed = findFeed(deps.config, topic);
    return feed && topicSpecForFeed(feed);
  });

  app.get("/", (c) => {
    const permissions = c.get("permissions");
    const feeds = deps.config.feeds.filter((feed) => can(permissions, "read", feed.name));
    return c.json({
      feeds: feeds.map((feed) => ({
        name: feed.name,
        kind: feed.kind,
        mode: feed.mode,
        primaryKey: feed.primaryKey,
        columns: feed.columns,
        write: can(permissions, "write", feed.name),
      })),
    });
  });

  app.get("/:feed/rows", async (c) => {
    const feed = feedOf(deps, c);
    allowed(c, "read", feed.name);
    const limitText = c.req.query("limit");
    if (limitText !== undefined && !/^\d+$/.test(limitText)) {
      throw new ValidationError(`limit must be a whole number, got ${JSON.stringify(limitText)}`);
    }
    const limit = limitText === undefined ? undefined : Number(limitText);
    // Null prototype: a filter named like an Object.prototype member is just a (refused) name.
    const filters: Record<string, string> = Object.create(null);
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (PAGING_PARAMS.has(name)) continue;
      const problem = fieldNameProblem(name);
      if (problem) throw new ValidationError(`filter ${shown(name)} ${problem}`);
      if (values.length > 1) {
        throw new ValidationError(`filter ${JSON.stringify(name)} is given more than once`);
      }
      filters[name] = values[0];
    }
    const page = await readRows(deps.warehouse, feed, {
      limit,
      cursor: c.req.query("cursor"),
      filters,
    });
    return c.json({ feed: feed.name, count: page.rows.length, ...page });
  });

  app.post("/:feed/records", async (c) => {
    const feed = feedOf(deps, c);
    allowed(c, "write", feed.name);
    const records = validateRecords(feed, await jsonBody(c));
    await producer.send(records.map((value) => ({
      topic: feed.name,
      key: recordKey(feed, value),
      value: JSON.stringify(value),
    })));
    deps.log.info("api.records_produced", { feed: feed.name, records: records.length });
    return c.json({ feed: feed.name, accepted: records.length }, 202);
  });
  return app;
}

function feedOf(deps: AppDeps, c: Context<AppEnv>): Feed {
  const name = c.req.param("feed") ?? "";
  const feed = findFeed(deps.config, name);
  if (!feed) throw new NotFoundError(`unknown feed ${JSON.stringify(name.slice(0, 100))}`);
  return feed;
}

/**
 * Records of a POST: each an object of declared columns under the record contract (safe names,
 * typed values in range, its primary key, a sane event time).
 */
export function validateRecords(feed: Feed, body: unknown): Record<string, unknown>[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) {
    throw new ValidationError("no records: send an object or a non-empty array");
  }
  if (list.length > MAX_RECORDS_PER_POST) {
    throw new ValidationError(`at most ${MAX_RECORDS_PER_POST} records per request`);
  }
  return list.map((record, i) => {
    const where = `Cannot accept ${feed.name} record ${i}`;
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new ValidationError(`${where}: a record must be a JSON object`);
    }
    const value = record as Record<string, unknown>;
    // The record contract, declared fields only: personal data cannot ride along on a POST.
    const problem = recordProblem(feed, value, { declaredOnly: true, window: feed.timeWindow });
    if (problem) throw new ValidationError(`${where}: ${problem}`);
    return value;
  });
}
