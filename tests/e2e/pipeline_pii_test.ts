/**
 * The whole pipeline through the real CLI with the flags of `deno task start`: fake producer →
 * processor → lake consumer → warehouse loader, then the PII scan (issue 5: it passes on a full
 * run and fails on a planted email). The raw topic is the test's own; derived topics are shared
 * with other tests, which is fine here: no derived record may hold personal data, whoever wrote it.
 */
import assert from "node:assert/strict";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, testConfig, uniqueName } from "../helpers/env.ts";

engineTest(
  "full pipeline run: derived feeds reach lake and warehouse, and audit-pii finds no personal data",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const env = {
      ...envOf(config),
      RAW_TOPIC: uniqueName("raw").toLowerCase(),
      REJECTED_TOPIC: uniqueName("rejected").toLowerCase(),
    };
    try {
      const steps: [string, string[]][] = [
        ["produce", ["produce", "--count", "500", "--users", "40", "--seed", "7"]],
        ["process", ["process", "--once"]],
        ["consume", ["consume", "--once"]],
        ["load", ["load"]],
      ];
      for (const [name, args] of steps) {
        const result = await runMain(args, env);
        assert.equal(result.code, 0, `${name} failed:\n${result.stdout}\n${result.stderr}`);
      }

      const db = await openWarehouseFromConfig(config);
      try {
        const counts = new Map<string, number>();
        for (const table of await db.dialect.tables(db)) {
          counts.set(table, Number((await db.get(`SELECT COUNT(*) AS n FROM "${table}"`))?.n));
        }
        const count = (table: string) => counts.get(table) ?? 0;
        assert.ok(
          count("TRANSACTIONS_SECURE") >= 500,
          "every produced transaction is in the warehouse",
        );
        assert.ok(count("TRANSACTIONS_USD") >= 500);
        assert.ok(count("USERS") >= 40);
        assert.ok(count("CURRENCY_RATES") >= 1);
        assert.equal(
          count("TRANSACTIONS_SECURE"),
          ["COMPLETED", "FAILED", "PENDING", "PROCESSING", "CANCELLED"]
            .map((s) => count(`TRANSACTIONS_${s}`))
            .reduce((a, b) => a + b),
          "status routing splits SECURE exactly",
        );
      } finally {
        await db.close();
      }

      const clean = await runMain(["audit-pii"], env);
      assert.equal(
        clean.code,
        0,
        `audit-pii found personal data:\n${clean.stdout}\n${clean.stderr}`,
      );

      // Plant an email in a lake file: the same scan must now fail and say where.
      const day = new Date().toISOString().slice(0, 10);
      const planted = `${config.dataLakeDir}/USERS/${day}/USERS_${day}.jsonl`;
      await Deno.writeTextFile(planted, JSON.stringify({ NOTE: "jane.doe@example.com" }) + "\n", {
        append: true,
      });
      const dirty = await runMain(["audit-pii"], env);
      assert.equal(dirty.code, 1);
      assert.match(dirty.stdout + dirty.stderr, /email/i);
      assert.match(dirty.stdout + dirty.stderr, /USERS_/);
    } finally {
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
