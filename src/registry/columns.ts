/**
 * The warehouse's hook: a feed in a registry format gets its column types from its schemas, not
 * from the first value loaded. Every version of the feed's subject (`<topic>-value`, Confluent's
 * default TopicNameStrategy) adds its columns, so a new optional field in a compatible new version
 * becomes a new column; a column keeps the type of the newest version that has it. Columns
 * declared on the feed win over the schema's.
 */
import type { ColumnType, Feed } from "../config/feeds.ts";
import type { Logger } from "../core/log.ts";
import { SchemaRegistryClient } from "./client.ts";
import { RecordDecoder } from "./decoder.ts";
import { SchemaError } from "./errors.ts";
import type { SchemaRegistrySettings } from "../config/registry.ts";

/** The subject a feed's value schemas are registered under. */
export function valueSubject(feed: Pick<Feed, "name">): string {
  return `${feed.name}-value`;
}

/**
 * `feeds` with the columns of their registry schemas added. Feeds in JSON come back as they are;
 * without registry settings nothing is asked. A registry that cannot be reached throws a
 * RegistryUnavailableError (the load fails with that cause and the next one tries again).
 */
export async function withSchemaColumns(
  feeds: readonly Feed[],
  settings: SchemaRegistrySettings | undefined,
  log: Logger,
): Promise<Feed[]> {
  const schemaFeeds = feeds.filter((f) => f.format && f.format !== "json");
  if (!settings || schemaFeeds.length === 0) return [...feeds];
  const client = new SchemaRegistryClient(settings);
  const decoder = new RecordDecoder(client);
  try {
    const columnsOf = new Map<string, Record<string, ColumnType>>();
    for (const feed of schemaFeeds) {
      const subject = valueSubject(feed);
      const columns: Record<string, ColumnType> = {};
      for (const version of await client.versions(subject)) {
        const { id } = await client.version(subject, version);
        try {
          const compiled = await decoder.compiled(id);
          for (const c of compiled.shape.columns) columns[c.name] = c.type;
        } catch (error) {
          if (!(error instanceof SchemaError)) throw error;
          // Its records are quarantined by the lake; the other versions still give columns.
          log.warn("registry.schema_unusable", { feed: feed.name, subject, version, error });
        }
      }
      columnsOf.set(feed.name, columns);
    }
    return feeds.map((feed) => {
      const columns = columnsOf.get(feed.name);
      return columns ? { ...feed, columns: { ...columns, ...feed.columns } } : feed;
    });
  } finally {
    client.close();
  }
}
