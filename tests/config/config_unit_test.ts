/** The one config object: settings.ts, FEEDS_FILE and the environment, each mistake one message. */
import assert from "node:assert/strict";
import { type Config, findFeed, loadConfig, retentionOf } from "../../src/config/config.ts";
import { FEEDS } from "../../src/config/settings.ts";
import { ConfigError } from "../../src/core/errors.ts";

function load(env: Record<string, string>, feedsFile?: unknown): Config {
  const vars = new Map(Object.entries(env));
  if (feedsFile !== undefined) vars.set("FEEDS_FILE", "/cfg/feeds.json");
  return loadConfig({ get: (name) => vars.get(name) }, {
    readTextFile: (path) => {
      assert.equal(path, "/cfg/feeds.json");
      return typeof feedsFile === "string" ? feedsFile : JSON.stringify(feedsFile);
    },
  });
}

/** Asserts loading fails with one ConfigError whose message matches every pattern. */
function fails(env: Record<string, string>, feedsFile: unknown, ...patterns: RegExp[]): void {
  assert.throws(() => load(env, feedsFile), (error: Error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${error}`);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

const ORDERS = {
  name: "ORDERS",
  kind: "stream",
  primaryKey: ["ORDER_ID"],
  timeField: "CREATED_AT",
  foreignKeys: [{ column: "USER_ID_HASHED", references: "USERS" }],
  retentionDays: 90,
};

Deno.test("config: defaults and every feed of settings.ts, referenced feeds first", () => {
  const config = load({});
  assert.deepEqual(config.kafka.brokers, ["localhost:9092"]);
  assert.equal(config.kafka.groupId, "data-lake");
  assert.equal(config.dataLakeDir, "./data_lake");
  assert.equal(config.port, 8080);
  assert.equal(config.pipelineSchedule, "*/10 * * * *");
  assert.equal(config.retentionDays, 30);
  assert.equal(config.onceOutageMs, 30_000);
  assert.deepEqual(config.feeds.map((f) => f.name).sort(), FEEDS.map((f) => f.name).sort());
  const names = config.feeds.map((f) => f.name);
  assert.ok(names.indexOf("USERS") < names.indexOf("TRANSACTIONS_SECURE"));
  assert.equal(findFeed(config, "USER_SPENDING_BY_TYPE")?.mode, "overwrite");
  assert.equal(findFeed(config, "CURRENCY_RATES")?.mode, "ignore");
  assert.equal(findFeed(config, "TRANSACTIONS_SECURE")?.mode, "append");
});

Deno.test("config: environment settings are read", () => {
  const config = load({
    KAFKA_BROKERS: "a:1, b:2",
    KAFKA_GROUP_ID: "g",
    DATA_LAKE_DIR: "/l",
    PORT: "9000",
    PIPELINE_SCHEDULE: "0 */2 * * 1-5",
    RETENTION_DAYS: "7",
    ONCE_OUTAGE_SECONDS: "5",
  });
  assert.deepEqual(config.kafka.brokers, ["a:1", "b:2"]);
  assert.equal(config.kafka.groupId, "g");
  assert.equal(config.dataLakeDir, "/l");
  assert.equal(config.port, 9000);
  assert.equal(config.pipelineSchedule, "0 */2 * * 1-5");
  assert.equal(config.retentionDays, 7);
  assert.equal(config.onceOutageMs, 5000);
});

Deno.test("config: FEEDS_FILE adds a feed with no code change", () => {
  const config = load({}, { feeds: [ORDERS] });
  const orders = findFeed(config, "ORDERS");
  assert.ok(orders);
  assert.equal(orders.kind, "stream");
  assert.equal(orders.mode, "append");
  assert.equal(orders.timeField, "CREATED_AT");
  assert.deepEqual(orders.primaryKey, ["ORDER_ID"]);
  assert.equal(retentionOf(config, orders), 90);
  assert.equal(config.feedsFile, "/cfg/feeds.json");
  assert.equal(config.feeds.length, FEEDS.length + 1);
  const names = config.feeds.map((f) => f.name);
  assert.ok(names.indexOf("USERS") < names.indexOf("ORDERS"));
});

Deno.test("config: FEEDS_FILE overrides a feed of settings.ts", () => {
  const config = load({}, {
    feeds: [{ name: "CURRENCY_RATES", kind: "table", primaryKey: ["CURRENCY"], retentionDays: 5 }],
  });
  const rates = findFeed(config, "CURRENCY_RATES");
  assert.equal(rates?.mode, "overwrite");
  assert.equal(rates?.retentionDays, 5);
  assert.equal(config.feeds.length, FEEDS.length);
});

Deno.test("config: FEEDS_FILE from a real file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/feeds.json`, JSON.stringify({ feeds: [ORDERS] }));
  const config = loadConfig({ get: (n) => (n === "FEEDS_FILE" ? `${dir}/feeds.json` : undefined) });
  assert.ok(findFeed(config, "ORDERS"));
  assert.throws(
    () => loadConfig({ get: (n) => (n === "FEEDS_FILE" ? `${dir}/missing.json` : undefined) }),
    /FEEDS_FILE .*missing\.json cannot be read/,
  );
});

Deno.test("config: each FEEDS_FILE mistake is one clear message naming the field", () => {
  const feed = (extra: Record<string, unknown>) => ({ feeds: [{ ...ORDERS, ...extra }] });
  fails({}, "{ feeds: [", /FEEDS_FILE .* is not valid JSON/);
  fails({}, { feed: [] }, /must be an object with a "feeds" list/);
  fails({}, [ORDERS], /must be an object with a "feeds" list/);
  fails(
    {},
    feed({ name: "../x" }),
    /FEEDS_FILE feeds\[0\]: name "\.\.\/x" is not a valid feed name/,
  );
  fails({}, feed({ name: "a/b" }), /name "a\/b" is not a valid feed name/);
  fails({}, feed({ name: "orders" }), /name "orders" is not a valid feed name/);
  fails({}, feed({ name: undefined }), /name undefined is not a valid feed name/);
  fails({}, feed({ kind: "stremm" }), /feed ORDERS\): kind must be stream, table or static/);
  fails({}, feed({ primaryKey: undefined }), /feed ORDERS\): primaryKey must be a non-empty list/);
  fails({}, feed({ primaryKey: [] }), /primaryKey must be a non-empty list/);
  fails({}, feed({ primaryKey: ["A B"] }), /primaryKey\[0\]: "A B" is not a valid field name/);
  fails({}, feed({ timeField: 3 }), /timeField: 3 is not a valid field name/);
  fails(
    {},
    feed({ foreignKeys: [{ column: "USER_ID_HASHED", references: "NOBODY" }] }),
    /feed ORDERS: foreign key USER_ID_HASHED references unknown feed NOBODY/,
  );
  fails({}, feed({ foreignKeys: "USERS" }), /foreignKeys must be a list/);
  fails({}, feed({ foreignKeys: [null] }), /foreignKeys\[0\] must be an object/);
  fails({}, feed({ retentionDays: 0 }), /feed ORDERS\): retentionDays must be a whole number/);
  fails({}, feed({ retentionDays: "30" }), /retentionDays must be a whole number/);
  fails({}, feed({ retentionDays: 1.5 }), /retentionDays must be a whole number/);
  fails({}, feed({ columns: { AMOUNT: "FLOAT" } }), /column AMOUNT has type "FLOAT"/);
  fails({}, feed({ colums: {} }), /feed ORDERS\): unknown field "colums"/);
  fails({}, { feeds: [ORDERS, { ...ORDERS, kind: "table" }] }, /feeds\[1\].*ORDERS.*twice/);
  fails({}, { feeds: ["ORDERS"] }, /FEEDS_FILE feeds\[0\]: a feed must be an object/);
});

Deno.test("config: each bad environment setting is one clear message naming it", () => {
  for (const port of ["http", "-1", "70000", "80.5", "0x50", "1e3"]) {
    fails({ PORT: port }, undefined, /^PORT must be a whole number from 0 to 65535/);
  }
  for (const brokers of [",", "localhost", "localhost:abc", "a:1,b", "host:70000"]) {
    fails({ KAFKA_BROKERS: brokers }, undefined, /^KAFKA_BROKERS/);
  }
  for (const schedule of ["every 10 minutes", "* * * *", "*/10 * * * * *", "61 * * * *"]) {
    fails({ PIPELINE_SCHEDULE: schedule }, undefined, /^PIPELINE_SCHEDULE must be a cron/);
  }
  for (const days of ["0", "thirty", "-5"]) {
    fails({ RETENTION_DAYS: days }, undefined, /^RETENTION_DAYS must be a whole number/);
  }
  for (const seconds of ["0", "half a minute", "1.5", "86401"]) {
    fails(
      { ONCE_OUTAGE_SECONDS: seconds },
      undefined,
      /^ONCE_OUTAGE_SECONDS must be a whole number/,
    );
  }
});

Deno.test("config: LOADER_BATCH_ROWS is a whole number from 1, or absent (the loader sizes batches)", () => {
  assert.equal(load({}).loaderBatchRows, undefined);
  assert.equal(load({ LOADER_BATCH_ROWS: "" }).loaderBatchRows, undefined);
  assert.equal(load({ LOADER_BATCH_ROWS: "500" }).loaderBatchRows, 500);
  for (const bad of ["0", "-3", "1.5", "1e3", "many"]) {
    assert.throws(
      () => load({ LOADER_BATCH_ROWS: bad }),
      (error) =>
        error instanceof ConfigError &&
        /LOADER_BATCH_ROWS must be a whole number/.test(error.message),
      bad,
    );
  }
});
