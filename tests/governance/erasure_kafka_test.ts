/**
 * Erasure and Kafka (real broker): tombstones for every key of the person in the table topics, a
 * running lake consumer that drops them, and Kafka down reported, not hidden.
 */
import assert from "node:assert/strict";
import { recordKey } from "../../src/config/feeds.ts";
import { legacyRecordKey } from "../../src/contract/record.ts";
import { TRANSACTION_TYPES } from "../../src/config/settings.ts";
import { silentLogger } from "../../src/core/log.ts";
import { recentAudit } from "../../src/governance/audit.ts";
import { eraseUser } from "../../src/governance/erasure.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { topicSpecForFeed } from "../../src/kafka/topics.ts";
import { startLakeConsumer } from "../../src/lake/consumer.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { hmacHexSync, hmacKey } from "../../src/processor/pseudonymize.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { BROKERS, envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { testWithKcat } from "../helpers/needs.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { openTestWarehouse, writeJsonl } from "./fixtures.ts";

/** A raw user id no other test uses, so its pseudonym is unique on the shared topics. */
const uniqueUser = () => uniqueName("U");

function pseudonym(secret: string, userId: string): string {
  return hmacHexSync(hmacKey(secret), userId);
}

/** Keys written to `topic` since `ends` was taken, with their values (null: a tombstone). */
async function keysSince(
  kafka: KafkaClient,
  topic: string,
  ends: Awaited<ReturnType<KafkaClient["endOffsets"]>>,
  prefix: string,
): Promise<Map<string, string | null>> {
  const records = await readTopic(kafka, topic, ends);
  return new Map(
    records.filter((r) => r.key?.includes(prefix)).map((r) => [r.key!, r.value]),
  );
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const readOr = (path: string) => Deno.readTextFile(path).catch(() => "");

Deno.test("erase --user tombstones every key of the person in USERS and USER_SPENDING_BY_TYPE", async () => {
  const config = await testConfig();
  const kafka = testKafka();
  const userId = uniqueUser();
  const gone = await pseudonym(config.anonymizationKey!, userId);
  const day = "2026-11-23";
  try {
    const usersFeed = config.feeds.find((f) => f.name === "USERS")!;
    const spendingFeed = config.feeds.find((f) => f.name === "USER_SPENDING_BY_TYPE")!;
    await kafka.ensureTopics([usersFeed, spendingFeed].map(topicSpecForFeed));
    // Keys beyond the guessed ones: a type the settings do not know (warehouse) and a null type
    // posted to the lake (keyed "" there, UNKNOWN by the processor).
    const db = await openTestWarehouse(config);
    await db.run("INSERT INTO USERS (USER_ID_HASHED) VALUES (?)", [gone]);
    await db.run(
      "INSERT INTO USER_SPENDING_BY_TYPE (USER_ID_HASHED, TRANSACTION_TYPE, TOTAL_AMOUNT_USD) " +
        "VALUES (?, 'gift', 1)",
      [gone],
    );
    await db.close();
    await writeJsonl(partitionPath(config.dataLakeDir, "USER_SPENDING_BY_TYPE", day), [
      { USER_ID_HASHED: gone, TRANSACTION_TYPE: null, TOTAL_AMOUNT_USD: 2 },
    ]);
    await writeJsonl(partitionPath(config.dataLakeDir, "USERS", day), [{ USER_ID_HASHED: gone }]);
    const usersEnds = await kafka.endOffsets(usersFeed.name);
    const spendingEnds = await kafka.endOffsets(spendingFeed.name);

    const result = await runMain(["erase", "--user", userId], envOf(config));
    assert.equal(result.code, 0, result.stderr);
    // Composite keys go out in both forms: JSON array (now) and "a|b" (topics written before).
    assert.match(
      result.stdout,
      /2 lake line\(s\) from 2 file\(s\), 2 warehouse row\(s\), 17 Kafka/,
    );
    assert.match(result.stdout, /kafka USERS: 1 tombstone\(s\)/);
    assert.match(result.stdout, /kafka USER_SPENDING_BY_TYPE: 16 tombstone\(s\)/);

    const users = await keysSince(kafka, usersFeed.name, usersEnds, gone);
    assert.deepEqual([...users], [[gone, null]]);
    const spending = await keysSince(kafka, spendingFeed.name, spendingEnds, gone);
    const types = [...TRANSACTION_TYPES, "UNKNOWN", "gift", ""];
    assert.deepEqual(
      [...spending.keys()].sort(),
      types.flatMap((t) => {
        const value = { USER_ID_HASHED: gone, TRANSACTION_TYPE: t };
        return [recordKey(spendingFeed, value), legacyRecordKey(spendingFeed, value)];
      }).sort(),
    );
    assert.ok([...spending.values()].every((v) => v === null), "tombstones only");

    const check = await openWarehouseFromConfig(config);
    try {
      const [row] = await recentAudit(check, { action: "erasure.run" });
      assert.equal(row.outcome, "ok");
      assert.deepEqual(row.detail?.tombstones, {
        byTopic: { USER_SPENDING_BY_TYPE: 16, USERS: 1 },
        total: 17,
        complete: true,
      });
      assert.ok(!JSON.stringify(row).includes(gone) && !JSON.stringify(row).includes(userId));
    } finally {
      await check.close();
    }
  } finally {
    await kafka.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("a running lake consumer that holds the person writes its next snapshots without them", async () => {
  const users = uniqueName("ER_USERS");
  const spending = uniqueName("ER_SPENDING");
  const config = await testConfig({
    feeds: [
      { name: users, kind: "table", primaryKey: ["USER_ID_HASHED"] },
      {
        name: spending,
        kind: "table",
        primaryKey: ["USER_ID_HASHED", "TRANSACTION_TYPE"],
        foreignKeys: [{ column: "USER_ID_HASHED", references: users }],
      },
    ],
  });
  const [usersFeed, spendingFeed] = config.feeds;
  const kafka = testKafka();
  const key = config.anonymizationKey!;
  const goneId = uniqueUser();
  const [gone, stays, later] = await Promise.all(
    [goneId, uniqueUser(), uniqueUser()].map((id) => pseudonym(key, id)),
  );
  const now = Date.parse("2026-11-24T12:00:00Z");
  const usersFile = partitionPath(config.dataLakeDir, users, now);
  const spendingFile = partitionPath(config.dataLakeDir, spending, now);
  const put = async (who: string, types: string[]) => {
    const producer = await kafka.producer();
    const user = { USER_ID_HASHED: who, CITY: "Lyon" };
    const rows = types.map((t) => ({ USER_ID_HASHED: who, TRANSACTION_TYPE: t, N: 1 }));
    await producer.send([
      { topic: users, key: recordKey(usersFeed, user), value: JSON.stringify(user) },
      ...rows.map((r) => ({
        topic: spending,
        key: recordKey(spendingFeed, r),
        value: JSON.stringify(r),
      })),
    ]);
    await producer.close();
  };
  const db = await openTestWarehouse(config);
  let consumer: Awaited<ReturnType<typeof startLakeConsumer>> | undefined;
  try {
    await kafka.ensureTopics(config.feeds.map(topicSpecForFeed));
    await put(gone, ["purchase", "UNKNOWN"]);
    await put(stays, ["refund"]);
    consumer = await startLakeConsumer({
      config,
      kafka,
      log: silentLogger,
      feeds: config.feeds,
      now: () => now,
    });
    await waitFor("the person in both snapshots", async () => {
      const text = await readOr(spendingFile);
      return (await readOr(usersFile)).includes(gone) &&
        text.includes(`${gone}","TRANSACTION_TYPE":"UNKNOWN`) &&
        text.includes(stays);
    });

    const report = await eraseUser({
      config,
      warehouse: db,
      log: silentLogger,
      userId: goneId,
      kafka,
    });
    assert.deepEqual(report.tombstones, {
      byTopic: { [users]: 1, [spending]: 12 },
      total: 12 + 1,
      complete: true,
    });

    // Changes for someone else make the consumer rewrite both snapshots from its memory: without
    // the tombstones it would write the person back.
    await put(later, ["deposit"]);
    await waitFor(
      "the next snapshots",
      async () =>
        (await readOr(usersFile)).includes(later) && (await readOr(spendingFile)).includes(later),
    );
    for (const path of [usersFile, spendingFile]) {
      const text = await Deno.readTextFile(path);
      assert.ok(!text.includes(gone), `${path} holds the erased person again`);
      assert.ok(text.includes(stays), `${path} lost someone else`);
    }
  } finally {
    await consumer?.stop();
    await consumer?.done.catch(() => {});
    await db.close();
    await kafka.close();
    await Deno.remove(config.root, { recursive: true });
  }
});

Deno.test("erase with Kafka down still erases lake and warehouse, exits 1 and audits it", async () => {
  const config = await testConfig();
  const userId = uniqueUser();
  const gone = await pseudonym(config.anonymizationKey!, userId);
  const users = partitionPath(config.dataLakeDir, "USERS", "2026-11-25");
  try {
    await writeJsonl(users, [{ USER_ID_HASHED: gone }, { USER_ID_HASHED: "someone-else" }]);
    const db = await openTestWarehouse(config);
    await db.run("INSERT INTO USERS (USER_ID_HASHED) VALUES (?)", [gone]);
    await db.close();

    // Nothing listens on port 1: connections are refused, and the client retries until our timeout.
    const result = await runMain(["erase", "--user", userId], {
      ...envOf(config),
      KAFKA_BROKERS: "127.0.0.1:1",
    });
    assert.equal(result.code, 1, result.stderr);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /Kafka tombstones were NOT sent .*run erase again .*idempotent/);
    assert.match(result.stdout, /1 lake line\(s\) from 1 file\(s\), 1 warehouse row\(s\), 0 Kafka/);
    assert.equal(
      await Deno.readTextFile(users),
      JSON.stringify({ USER_ID_HASHED: "someone-else" }) + "\n",
    );

    const check = await openWarehouseFromConfig(config);
    try {
      assert.equal((await check.get("SELECT COUNT(*) AS n FROM USERS"))?.n, 0);
      const [row] = await recentAudit(check, { action: "erasure.run" });
      assert.equal(row.outcome, "error");
      const tombstones = row.detail?.tombstones as Record<string, unknown>;
      assert.equal(tombstones.complete, false);
      assert.equal(tombstones.total, 0);
      assert.match(String(tombstones.error), /Kafka/);
      assert.equal(row.detail?.totalRows, 1);
    } finally {
      await check.close();
    }
  } finally {
    await Deno.remove(config.root, { recursive: true });
  }
});

testWithKcat(
  "erase --user: a tombstone reaches the partition the processor put the person in",
  async () => {
    // The processor co-partitions per-user tables with the raw topic (by the raw id's hash), so a
    // person's key may sit in any partition, not the one its own key hashes to.
    const feedName = uniqueName("ERASE_PART");
    const config = await testConfig({
      feeds: [{ name: feedName, kind: "table", primaryKey: ["USER_ID_HASHED"] }],
    });
    const kafka = testKafka();
    const userId = uniqueUser();
    const gone = pseudonym(config.anonymizationKey!, userId);
    try {
      await kafka.ensureTopics([{ topic: feedName, partitions: 4, compact: true }]);
      const producer = await kafka.producer();
      for (const partition of [1, 3]) {
        await producer.send([{
          topic: feedName,
          key: gone,
          value: JSON.stringify({ USER_ID_HASHED: gone }),
          partition,
        }]);
      }
      await producer.close();
      const db = await openTestWarehouse(config);
      const report = await eraseUser({ config, warehouse: db, log: silentLogger, userId, kafka });
      await db.close();
      assert.equal(report.tombstones.complete, true);
      assert.deepEqual(report.tombstones.byTopic, { [feedName]: 1 });
      // Read back by an outside client: each partition ends with the person's tombstone (-1: null).
      for (const partition of [0, 1, 2, 3]) {
        const out = await new Deno.Command("kcat", {
          args: [
            "-C",
            "-b",
            BROKERS,
            "-t",
            feedName,
            "-p",
            String(partition),
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%S\n",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
        assert.equal(lines.at(-1), `${gone}\t-1`, `partition ${partition}: ${lines.join(" | ")}`);
      }
    } finally {
      await kafka.close();
      await Deno.remove(config.root, { recursive: true });
    }
  },
);
