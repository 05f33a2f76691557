import assert from "node:assert/strict";
import { findPii, scanForPii } from "../../src/governance/pii_scan.ts";
import { partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { engineTest } from "../helpers/engines.ts";
import { insertTransaction, openTestWarehouse, writeJsonl } from "./fixtures.ts";

const HASH = "5661e2ceb0b8d1f0a4c3e2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19080706";

Deno.test("findPii: emails, unmasked IPv4 and pool user ids; not masked or pseudonymized data", () => {
  const kinds = (text: string) => findPii(text).map((m) => `${m.kind}:${m.value}`);
  assert.deepEqual(kinds('{"EMAIL":"jane.doe+x@mail.example.org"}'), [
    "email:jane.doe+x@mail.example.org",
  ]);
  assert.deepEqual(kinds('{"IP":"192.168.1.23"}'), ["ipv4:192.168.1.23"]);
  assert.deepEqual(kinds('{"USER_ID":"U00042"}'), ["user_id:U00042"]);
  // What the processor writes instead must pass.
  const clean = JSON.stringify({
    USER_ID_HASHED: HASH,
    EMAIL_HASHED: HASH,
    IP_MASKED: "192.168.1.0",
    STREET_MASKED: "nn rue de la Paix",
    TIMESTAMP: "2026-11-24T10:15:00.000Z",
    AMOUNT: 1234.56,
    TRANSACTION_ID: "TXN-0A1B2C3D",
    VERSION: "1.2.3.4.5",
    CITY: "U000420 Uzès",
  });
  assert.deepEqual(kinds(clean), []);
  assert.deepEqual(kinds("999.1.1.1 and 10.0.0.0"), [], "not addresses, or masked");
});

engineTest(
  "audit-pii: passes on clean data, fails on a planted email in the lake and the warehouse",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const env = envOf(config);
    const file = partitionPath(config.dataLakeDir, "TRANSACTIONS_SECURE", "2026-11-20");
    try {
      await writeJsonl(file, [
        { TRANSACTION_ID: "TXN-00000001", USER_ID_HASHED: HASH, IP_MASKED: "10.1.2.0" },
        { TRANSACTION_ID: "TXN-00000002", USER_ID_HASHED: HASH, IP_MASKED: "10.1.3.0" },
      ]);
      const db = await openTestWarehouse(config);
      await insertTransaction(db, {
        id: "TXN-00000001",
        user: HASH,
        at: "2026-11-20T10:00:00.000Z",
      });
      await db.close();

      const clean = await runMain(["audit-pii"], env);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /scanned 1 lake file\(s\) \(2 lines\)/);
      assert.match(clean.stdout, /no personal data found/);

      // Plant an email in the lake (line 2) and a raw user id in a quarantine file.
      await writeJsonl(file, [
        { TRANSACTION_ID: "TXN-00000001", USER_ID_HASHED: HASH },
        { TRANSACTION_ID: "TXN-00000002", EMAIL: "jane.doe@example.com" },
      ]);
      await writeJsonl(rejectedPath(config.dataLakeDir, "TRANSACTIONS_SECURE", "2026-11-20"), [
        { reason: "bad", raw: '{"USER_ID":"U00042"}' },
      ]);
      const dirty = await runMain(["audit-pii"], env);
      assert.equal(dirty.code, 1, dirty.stdout + dirty.stderr);
      assert.ok(dirty.stdout.includes(`email once in lake ${file}:2`), dirty.stdout);
      assert.match(dirty.stdout, /user_id once in lake .*_rejected/);
      assert.ok(!dirty.stdout.includes("jane.doe@"), "the report masks what it found");

      // The helper tests can call; the warehouse is scanned too.
      const write = await openTestWarehouse(config);
      await write.run(
        "UPDATE USERS SET CITY = 'contact: bob@example.net' WHERE USER_ID_HASHED = ?",
        [
          HASH,
        ],
      );
      const report = await scanForPii({ lakeDir: config.dataLakeDir, warehouse: write });
      await write.close();
      const warehouse = report.findings.filter((f) => f.source === "warehouse");
      assert.deepEqual(warehouse.map((f) => `${f.location} ${f.kind} ${f.count}`), [
        "USERS.CITY email 1",
      ]);
      assert.equal(report.findings.length, 3);
    } finally {
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
