/**
 * Issue 19: a wrong MariaDB password (ER_ACCESS_DENIED_ERROR, told by its code) is a
 * configuration error with one clear line, exit 3, never an outage retried forever, and the
 * password is never shown. Also an unknown user and a database the user may not use.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import { connectWarehouse } from "../../src/warehouse/open.ts";
import { TEST_URL } from "../helpers/engines.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";

function variants(): [string, string, RegExp][] {
  const good = new URL(TEST_URL!);
  const wrongPassword = new URL(good);
  wrongPassword.password = "not-the-password-4711";
  const unknownUser = new URL(good);
  unknownUser.username = "nobody_here";
  unknownUser.password = "whatever-4711";
  const otherDatabase = new URL(good);
  otherDatabase.pathname = "/mysql";
  return [
    ["wrong password", wrongPassword.href, /refused the user or password/],
    ["unknown user", unknownUser.href, /refused the user or password/],
    ["database not allowed", otherDatabase.href, /may not use the database/],
  ];
}

Deno.test({
  name: "[mysql] a wrong password, user or database: one line, exit 3, no retries, no password",
  ignore: !TEST_URL,
  async fn() {
    for (const [what, url, reason] of variants()) {
      const config = await testConfig({ env: { WAREHOUSE_URL: url } });
      try {
        const out = await runMain(["load"], { ...envOf(config), WAREHOUSE_URL: url });
        assert.equal(out.code, 3, `${what}: ${out.stderr}`);
        const lines = out.stderr.trim().split("\n");
        assert.equal(lines.length, 1, out.stderr);
        assert.match(lines[0], reason, what);
        assert.match(lines[0], /WAREHOUSE_URL/);
        assert.ok(!out.stderr.includes("4711"), "no password shown");

        // serve's connection loop gives up at once: nothing to wait for.
        const error = await connectWarehouse(config, { log: silentLogger }).then(
          (w) => w.close().then(() => undefined),
          (error) => error,
        );
        assert.ok(error instanceof ConfigError, `${what}: ${error}`);
      } finally {
        await Deno.remove(config.root, { recursive: true });
      }
    }
  },
});
