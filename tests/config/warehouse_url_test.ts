/** WAREHOUSE_URL: validated once, the password never shown; a server that is not there: one line. */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { warehouseLabel } from "../../src/warehouse/open.ts";
import { runMain, testConfig } from "../helpers/env.ts";

function load(env: Record<string, string>) {
  const vars = new Map(Object.entries(env));
  return loadConfig({ get: (name) => vars.get(name) });
}

Deno.test("WAREHOUSE_URL: parsed, password from the URL or WAREHOUSE_PASSWORD, never printed", () => {
  const sqlite = load({ WAREHOUSE_PATH: "/tmp/w.db" });
  assert.equal(sqlite.warehouseUrl, undefined, "no URL: the SQLite file");
  assert.equal(warehouseLabel(sqlite), "sqlite:/tmp/w.db");

  const config = load({ WAREHOUSE_URL: "mysql://dl:s%40cret@db.example:3307/datalake" });
  assert.deepEqual(
    { ...config.warehouseUrl },
    { host: "db.example", port: 3307, user: "dl", database: "datalake" },
  );
  assert.equal(config.warehouseUrl?.password, "s@cret");
  assert.ok(!JSON.stringify(config).includes("s@cret"), "the config prints without it");
  assert.equal(warehouseLabel(config), "mysql://dl@db.example:3307/datalake");

  const fromEnv = load({
    WAREHOUSE_URL: "mysql://dl@127.0.0.1/datalake",
    WAREHOUSE_PASSWORD: "from-env",
  });
  assert.equal(fromEnv.warehouseUrl?.password, "from-env");
  assert.equal(fromEnv.warehouseUrl?.port, 3306, "default port");
});

Deno.test("WAREHOUSE_URL: each mistake is one ConfigError line that never repeats the password", () => {
  const cases: [string, RegExp][] = [
    ["not a url", /not a URL/],
    ["postgres://u:pw1@h/db", /must start with mysql:\/\//],
    ["mysql://u:pw1@h/", /needs a database/],
    ["mysql://u:pw1@h/bad-name", /needs a database/],
    ["mysql://:pw1@h/db", /needs a user/],
    ["mysql://u:pw1@h/db?ssl=true", /no \?options/],
  ];
  for (const [url, pattern] of cases) {
    assert.throws(() => load({ WAREHOUSE_URL: url }), (error: Error) => {
      assert.ok(error instanceof ConfigError, `${url}: ${error}`);
      assert.match(error.message, pattern);
      assert.match(error.message, /^WAREHOUSE_URL/);
      assert.ok(!error.message.includes("\n"));
      assert.ok(!error.message.includes("pw1"), `${url}: the password is not repeated`);
      return true;
    });
  }
});

Deno.test("a MariaDB server that does not answer: one clear line, exit 1, no password", async () => {
  const config = await testConfig();
  try {
    const env = {
      DATA_LAKE_DIR: config.dataLakeDir,
      WAREHOUSE_URL: "mysql://dl:very-secret-pw@127.0.0.1:1/datalake",
    };
    for (const args of [["accounts", "list"], ["permissions", "list"], ["cleanup"]]) {
      const result = await runMain(args, env);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${args.join(" ")}: one line: ${result.stderr}`);
      assert.match(lines[0], /^error: The MariaDB\/MySQL warehouse at 127\.0\.0\.1:1\/datalake/);
      assert.match(lines[0], /ECONNREFUSED/);
      assert.ok(!result.stderr.includes("very-secret-pw") && !result.stdout.includes("secret"));
    }
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});
