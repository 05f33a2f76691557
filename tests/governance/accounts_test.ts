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
import { openWarehouse } from "../../src/warehouse/db.ts";
import { envOf, runMain, testConfig } from "../helpers/env.ts";
import { openTestWarehouse, throwsOf } from "./fixtures.ts";

Deno.test("accounts: a token authenticates its account until it is disabled", async () => {
  const config = await testConfig();
  const db = openTestWarehouse(config);
  try {
    const { account, token } = createAccount(db, "reporter", "cli:test");
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
    assert.equal(authenticate(db, token)?.name, "reporter");
    assert.equal(authenticate(db, token + "x"), null);
    assert.equal(authenticate(db, ""), null);
    assert.equal(authenticate(db, hashToken(token)), null, "the stored hash is not a token");
    assert.notEqual(createAccount(db, "other", "cli:test").token, token);
    throwsOf(() => createAccount(db, "reporter", "cli:test"), ConflictError);
    throwsOf(() => createAccount(db, "bad name!", "cli:test"), ValidationError);
    throwsOf(() => disableAccount(db, "ghost", "cli:test"), NotFoundError);

    assert.equal(disableAccount(db, "reporter", "cli:test").id, account.id);
    assert.equal(authenticate(db, token), null, "disabled accounts do not authenticate");
    assert.deepEqual(
      listAccounts(db).map((a) => [a.name, a.disabledAt === null]),
      [["other", true], ["reporter", false]],
    );
  } finally {
    db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("bootstrapAdmin: idempotent, follows a changed ADMIN_TOKEN, grants admin on *", async () => {
  const config = await testConfig();
  const db = openTestWarehouse(config);
  try {
    assert.equal(bootstrapAdmin(db, "first-admin-token-0123456789"), "created");
    assert.equal(bootstrapAdmin(db, "first-admin-token-0123456789"), "unchanged");
    const admin = authenticate(db, "first-admin-token-0123456789");
    assert.ok(admin);
    assert.ok(can(permissionsOf(db, admin.id), "admin"));

    disableAccount(db, "admin", "cli:test");
    assert.equal(authenticate(db, "first-admin-token-0123456789"), null);
    assert.equal(bootstrapAdmin(db, "first-admin-token-0123456789"), "unchanged", "stays off");
    assert.equal(bootstrapAdmin(db, "rotated-admin-token-987654321"), "updated");
    assert.equal(authenticate(db, "first-admin-token-0123456789"), null, "old token is dead");
    assert.equal(authenticate(db, "rotated-admin-token-987654321")?.id, admin.id);
    assert.equal(listAccounts(db).length, 1);
    assert.deepEqual(
      recentAudit(db, { action: "account.bootstrap" }).map((r) => r.detail?.result),
      ["updated", "created"],
    );
  } finally {
    db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("tokens are stored nowhere in clear: not in the .db, -wal or -shm bytes", async () => {
  const config = await testConfig();
  const env = { ...envOf(config), ADMIN_TOKEN: "unused", USER: "tester" };
  try {
    const created = await runMain(["accounts", "create", "svc-bot"], env);
    assert.equal(created.code, 0, created.stderr);
    const token = /token: (\S+)/.exec(created.stdout)?.[1];
    assert.ok(token, created.stdout);
    const granted = await runMain(["permissions", "grant", "svc-bot", "*", "read"], env);
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /granted read on \* to svc-bot/);

    const db = openWarehouse(config.warehousePath);
    const adminToken = "bootstrap-admin-secret-abcdef";
    bootstrapAdmin(db, adminToken);
    // A careless caller passing a token in an audit detail still does not store it.
    audit(db, { actor: "test", action: "test.detail", outcome: "ok", detail: { token } });
    assert.equal(authenticate(db, token)?.name, "svc-bot", "the printed token works");
    assert.equal(recentAudit(db, { action: "test.detail" })[0].detail?.token, "[redacted]");
    assert.equal(recentAudit(db, { action: "account.create" })[0].actor, "cli:tester");

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
    const stored = db.prepare("SELECT TOKEN_HASH FROM ACCOUNTS WHERE NAME = 'svc-bot'").get();
    assert.equal(stored?.TOKEN_HASH, hashToken(token));
    db.close();
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("AUDIT_LOG is append-only: UPDATE and DELETE are refused by the database", async () => {
  const config = await testConfig();
  const db = openTestWarehouse(config);
  try {
    audit(db, {
      actor: "test",
      action: "test.write",
      target: "x",
      outcome: "ok",
      detail: { n: 1 },
    });
    assert.throws(() => db.exec("UPDATE AUDIT_LOG SET OUTCOME = 'denied'"), /append-only/);
    assert.throws(() => db.exec("DELETE FROM AUDIT_LOG"), /append-only/);
    const [row] = recentAudit(db);
    assert.equal(row.outcome, "ok");
    assert.deepEqual(row.detail, { n: 1 });
  } finally {
    db.close();
    await Deno.remove(config.root, { recursive: true });
  }
});
