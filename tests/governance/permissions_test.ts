import assert from "node:assert/strict";
import { NotFoundError, ValidationError } from "../../src/core/errors.ts";
import { authenticate, createAccount, disableAccount } from "../../src/governance/accounts.ts";
import { recentAudit } from "../../src/governance/audit.ts";
import {
  ACCESS_LEVELS,
  can,
  grant,
  listPermissions,
  type Permission,
  permissionsOf,
  revoke,
} from "../../src/governance/permissions.ts";
import { engineTest } from "../helpers/engines.ts";
import { testConfig } from "../helpers/env.ts";
import { openTestWarehouse, rejectsOf } from "./fixtures.ts";

const FEED = "TRANSACTIONS_USD";
const OTHER = "USERS";

Deno.test("can: every granted level against every action, on the feed, on *, and elsewhere", () => {
  const rank = { read: 1, write: 2, admin: 3 };
  for (const granted of ACCESS_LEVELS) {
    for (const action of ACCESS_LEVELS) {
      const implied = rank[granted] >= rank[action];
      const onFeed: Permission[] = [{ topic: FEED, level: granted }];
      const onAll: Permission[] = [{ topic: "*", level: granted }];
      const label = `${granted} grant, ${action} action`;
      assert.deepEqual(can(onFeed, action, FEED), implied, `${label} on the granted feed`);
      assert.deepEqual(can(onFeed, action, OTHER), false, `${label} on another feed`);
      assert.deepEqual(can(onFeed, action), false, `${label} without a feed needs *`);
      assert.deepEqual(can(onAll, action, FEED), implied, `${label} via * on a feed`);
      assert.deepEqual(can(onAll, action, OTHER), implied, `${label} via * on another feed`);
      assert.deepEqual(can(onAll, action), implied, `${label} via * without a feed`);
    }
  }
  assert.deepEqual(can([], "read", FEED), false, "no grants, no access");
  // Account, permission and job management is `can(p, "admin")`: admin on * only.
  assert.deepEqual(can([{ topic: FEED, level: "admin" }], "admin"), false);
  assert.deepEqual(can([{ topic: "*", level: "admin" }], "admin"), true);
  // Several grants: the best one that applies wins.
  const mixed: Permission[] = [{ topic: "*", level: "read" }, { topic: FEED, level: "write" }];
  assert.deepEqual(can(mixed, "write", FEED), true);
  assert.deepEqual(can(mixed, "write", OTHER), false);
  assert.deepEqual(can(mixed, "read", OTHER), true);
  assert.deepEqual(can(mixed, "bogus" as "read", FEED), false, "an unknown action is refused");
});

engineTest(
  "grant, revoke, list: audited, with clear errors; a disabled account has no access",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const db = await openTestWarehouse(config);
    try {
      const { account, token } = await createAccount(db, "analyst", "cli:test");
      const first = await grant(db, config, "analyst", FEED, "read", "cli:test");
      assert.deepEqual(first.previous, null);
      assert.ok(can(await permissionsOf(db, account.id), "read", FEED));
      assert.ok(!can(await permissionsOf(db, account.id), "write", FEED));

      const upgraded = await grant(db, config, "analyst", FEED, "write", "cli:test");
      assert.deepEqual(upgraded.previous, "read");
      assert.ok(can(await permissionsOf(db, account.id), "write", FEED));
      await grant(db, config, "analyst", "*", "read", "cli:test");
      assert.ok(can(await permissionsOf(db, account.id), "read", OTHER));
      assert.deepEqual(
        (await listPermissions(db)).map((p) => `${p.account} ${p.topic} ${p.level} ${p.grantedBy}`),
        ["analyst * read cli:test", `analyst ${FEED} write cli:test`],
      );

      // Errors a person can act on.
      const unknownFeed = await rejectsOf(
        () => grant(db, config, "analyst", "NOPE", "read", "cli:test"),
        NotFoundError,
      );
      assert.ok(unknownFeed.message.includes('unknown feed "NOPE"'), unknownFeed.message);
      await rejectsOf(() => grant(db, config, "ghost", FEED, "read", "cli:test"), NotFoundError);
      const badLevel = await rejectsOf(
        () => grant(db, config, "analyst", FEED, "owner", "cli:test"),
        ValidationError,
      );
      assert.ok(badLevel.message.includes("read, write, admin"), badLevel.message);
      await rejectsOf(() => revoke(db, "analyst", OTHER, "cli:test"), NotFoundError);
      await rejectsOf(() => revoke(db, "ghost", FEED, "cli:test"), NotFoundError);

      // Revoke takes the feed grant away; the * read remains.
      assert.deepEqual((await revoke(db, "analyst", FEED, "cli:test")).level, "write");
      const after = await permissionsOf(db, account.id);
      assert.ok(!can(after, "write", FEED));
      assert.ok(can(after, "read", FEED), "* read still applies");
      await revoke(db, "analyst", "*", "cli:test");
      assert.ok(!can(await permissionsOf(db, account.id), "read", FEED));

      // Disabled: the token no longer authenticates and the grants no longer count.
      await grant(db, config, "analyst", "*", "admin", "cli:test");
      assert.ok((await authenticate(db, token)) !== null);
      await disableAccount(db, "analyst", "cli:test");
      assert.deepEqual(await authenticate(db, token), null);
      assert.deepEqual(await permissionsOf(db, account.id), []);
      await rejectsOf(
        () => grant(db, config, "analyst", FEED, "read", "cli:test"),
        ValidationError,
      );

      const actions = (await recentAudit(db)).map((r) => `${r.action} ${r.target}`).reverse();
      assert.deepEqual(actions, [
        "account.create analyst",
        `permission.grant analyst/${FEED}`,
        `permission.grant analyst/${FEED}`,
        "permission.grant analyst/*",
        `permission.revoke analyst/${FEED}`,
        "permission.revoke analyst/*",
        "permission.grant analyst/*",
        "account.disable analyst",
      ]);
      assert.deepEqual(
        (await recentAudit(db, { action: "permission.grant", limit: 1 }))[0].detail,
        {
          account: "analyst",
          topic: "*",
          level: "admin",
          previous: null,
        },
      );
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);

engineTest(
  "permissions matrix from stored grants: every level on a feed and on *",
  async (_t, e) => {
    const config = await testConfig({ env: e.env });
    const db = await openTestWarehouse(config);
    const rank = { read: 1, write: 2, admin: 3 };
    try {
      for (const granted of ACCESS_LEVELS) {
        for (const topic of [FEED, "*"]) {
          const name = `acct-${granted}-${topic === "*" ? "all" : "feed"}`;
          const { account } = await createAccount(db, name, "cli:test");
          // Granted twice at once: the upsert keeps one row (no duplicate-key error).
          await Promise.all([
            grant(db, config, name, topic, granted, "cli:test"),
            grant(db, config, name, topic, granted, "cli:test"),
          ]);
          const stored = await permissionsOf(db, account.id);
          assert.equal(stored.length, 1, `${name}: one grant row`);
          for (const action of ACCESS_LEVELS) {
            const implied = rank[granted] >= rank[action];
            assert.equal(can(stored, action, FEED), implied, `${name} ${action} ${FEED}`);
            assert.equal(can(stored, action, OTHER), topic === "*" && implied, `${name} ${OTHER}`);
            assert.equal(can(stored, action), topic === "*" && implied, `${name} ${action} on *`);
          }
        }
      }
    } finally {
      await db.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
