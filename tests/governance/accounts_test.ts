import assert from "node:assert/strict";
import { ConflictError, NotFoundError, ValidationError } from "../../src/core/errors.ts";
import {
  authenticate,
  bootstrapAdmin,
  createAccount,
  disableAccount,
  hashToken,
  listAccounts,
} from "../../src/governance/accounts.ts";
import { audit, recentAudit } from "../../src/governance/audit.ts";
import { can, permissionsOf } from "../../src/governance/permissions.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { openTestWarehouse, rejectsOf } from "./fixtures.ts";

engineTest("accounts: a token authenticates its account until it is disabled", async (_t, e) => {
  const config = await testConfig({ env: e.env });
  const db = await openTestWarehouse(config);
  try {
    const { account, token } = await createAccount(db, "reporter", "cli:test");
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    assert.equal((await authenticate(db, token))?.name, "reporter");
    assert.equal(await authenticate(db, token + "x"), null);
    assert.equal(await authenticate(db, token.toUpperCase()), null, "tokens are case-sensitive");
    assert.equal(await authenticate(db, ""), null);
    assert.equal(await authenticate(db, hashToken(token)), null, "the stored hash is not a token");
    assert.notEqual((await createAccount(db, "other", "cli:test")).token, token);
    await rejectsOf(() => createAccount(db, "reporter", "cli:test"), ConflictError);
    await rejectsOf(() => createAccount(db, "bad name!", "cli:test"), ValidationError);
    await rejectsOf(() => disableAccount(db, "ghost", "cli:test"), NotFoundError);

    assert.equal((await disableAccount(db, "reporter", "cli:test")).id, account.id);
    assert.equal(await authenticate(db, token), null, "disabled accounts do not authenticate");
    assert.deepEqual(
      (await listAccounts(db)).map((a) => [a.name, a.disabledAt === null]),
      [["other", true], ["reporter", false]],
    );
  } finally {
    await db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

engineTest(
  "bootstrapAdmin: idempotent, follows a changed ADMIN_TOKEN, grants admin on *",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const db = await openTestWarehouse(config);
    try {
      assert.equal(await bootstrapAdmin(db, "first-admin-token-0123456789"), "created");
      assert.equal(await bootstrapAdmin(db, "first-admin-token-0123456789"), "unchanged");
      const admin = await authenticate(db, "first-admin-token-0123456789");
      assert.ok(admin);
      assert.ok(can(await permissionsOf(db, admin.id), "admin"));

      await disableAccount(db, "admin", "cli:test");
      assert.equal(await authenticate(db, "first-admin-token-0123456789"), null);
      assert.equal(
        await bootstrapAdmin(db, "first-admin-token-0123456789"),
        "unchanged",
        "stays off",
      );
      assert.equal(await bootstrapAdmin(db, "rotated-admin-token-987654321"), "updated");
      assert.equal(
        await authenticate(db, "first-admin-token-0123456789"),
        null,
        "old token is dead",
      );
      assert.equal((await authenticate(db, "rotated-admin-token-987654321"))?.id, admin.id);
      assert.equal((await listAccounts(db)).length, 1);
      assert.deepEqual(
        (await recentAudit(db, { action: "account.bootstrap" })).map((r) => r.detail?.result),
        ["updated", "created"],
      );
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

Deno.test("tokens are stored nowhere in clear: not in the .db, -wal or -shm bytes", async () => {
  const config = await testConfig();
  const env = { ...envOf(config), ADMIN_TOKEN: "unused", USER: "tester" };
  try {
    const created = await runMain(["accounts", "create", "svc-bot"], env);
    assert.equal(created.code, 0, created.stderr);
    const token: string = /token: (\S+)/.exec(created.stdout)?.[1] ?? "";
    assert.ok(token, created.stdout);
    const granted = await runMain(["permissions", "grant", "svc-bot", "*", "read"], env);
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /granted read on \* to svc-bot/);

    const db = await openWarehouseFromConfig(config);
    const adminToken = "bootstrap-admin-secret-abcdef";
    await bootstrapAdmin(db, adminToken);
    // A careless caller passing a token in an audit detail still does not store it.
    await audit(db, { actor: "test", action: "test.detail", outcome: "ok", detail: { token } });
    assert.equal((await authenticate(db, token))?.name, "svc-bot", "the printed token works");
    assert.equal((await recentAudit(db, { action: "test.detail" }))[0].detail?.token, "[redacted]");
    assert.equal((await recentAudit(db, { action: "account.create" }))[0].actor, "cli:tester");

    // While the connection is open the WAL holds the latest pages; search every file.
    const files = [
      config.warehousePath,
      `${config.warehousePath}-wal`,
      `${config.warehousePath}-shm`,
    ];
    let searched = 0;
    let hashSeen = false;
    for (const path of files) {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(path);
      } catch {
        continue;
      }
      searched += bytes.length;
      const text = new TextDecoder("latin1").decode(bytes);
      for (const secret of [token, adminToken]) {
        assert.ok(!text.includes(secret), `${secret.slice(0, 6)}… found in clear in ${path}`);
      }
      if (text.includes(hashToken(token))) hashSeen = true;
    }
    assert.ok(searched > 0, "the warehouse files were read");
    assert.ok(hashSeen, "control: the search does find what is stored (the hash)");
    const stored = await db.get("SELECT TOKEN_HASH FROM ACCOUNTS WHERE NAME = 'svc-bot'");
    assert.equal(stored?.TOKEN_HASH, hashToken(token));
    await db.close();
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});

engineTest(
  "AUDIT_LOG is append-only: UPDATE and DELETE are refused by the database",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const db = await openTestWarehouse(config);
    try {
      await audit(db, {
        actor: "test",
        action: "test.write",
        target: "x",
        outcome: "ok",
        detail: { n: 1 },
      });
      await assert.rejects(() => db.run("UPDATE AUDIT_LOG SET OUTCOME = 'denied'"), /append-only/);
      await assert.rejects(() => db.run("DELETE FROM AUDIT_LOG"), /append-only/);
      await assert.rejects(
        () => db.transaction((tx) => tx.run("DELETE FROM AUDIT_LOG WHERE AUDIT_ID > 0")),
        /append-only/,
        "inside a transaction too",
      );
      // A second ensure (another process starting) keeps the triggers and fails nothing.
      await openTestWarehouse(config).then((again) => again.close());
      await assert.rejects(() => db.run("DELETE FROM AUDIT_LOG"), /append-only/);
      const [row] = await recentAudit(db);
      assert.equal(row.outcome, "ok");
      assert.deepEqual(row.detail, { n: 1 });
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
