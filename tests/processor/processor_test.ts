/**
 * The processor against the real broker, on topics of its own: a fixed set of raw transactions
 * (good and bad, interleaved) and every derived feed compared with values worked out here by
 * hand, with hashes computed in the test with Web Crypto.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { testConfig, testKafka } from "../helpers/env.ts";
import { isolatedTopics, outputTopics } from "./fixtures.ts";
import { expectedHmac, latestByKey, readTopic } from "./kafka_helpers.ts";

const KEY = "test-anonymization-key";

const RATES = [
  { CURRENCY: "USD", RATE_TO_USD: 1 },
  { CURRENCY: "EUR", RATE_TO_USD: 1.1 },
  { CURRENCY: "GBP", RATE_TO_USD: 1.25 },
  { CURRENCY: "JPY", RATE_TO_USD: 0.0067 },
];

const PEOPLE = {
  alice: {
    USER_ID: "U00001",
    USER_NAME: "Alice Martin",
    EMAIL: "alice.martin@example.com",
    CITY: "Paris",
    COUNTRY: "France",
    IP_ADDRESS: "192.168.1.77",
    STREET: "12 Rue de la Paix",
  },
  // On the default blacklist by id.
  bruno: {
    USER_ID: "U00042",
    USER_NAME: "Bruno Rossi",
    EMAIL: "bruno.rossi@example.org",
    CITY: "Rome",
    COUNTRY: "Italy",
    IP_ADDRESS: "2001:db8:85a3:8d3:1319:8a2e:370:7348",
    STREET: "221B Via Roma 3",
  },
  // On the default blacklist by country.
  kim: {
    USER_ID: "U00007",
    USER_NAME: "Kim Chen",
    EMAIL: "kim.chen@example.net",
    CITY: "Pyongyang",
    COUNTRY: "North Korea",
    IP_ADDRESS: "10.20.30.40",
    STREET: "5 Main Street",
  },
};

type Person = typeof PEOPLE.alice;

function raw(
  id: string,
  who: Person,
  type: string | null,
  amount: number,
  currency: string,
  status: string,
  time: string,
) {
  return {
    TRANSACTION_ID: id,
    ...who,
    TRANSACTION_TYPE: type,
    AMOUNT: amount,
    CURRENCY: currency,
    STATUS: status,
    TIMESTAMP: time,
  };
}

const GOOD = [
  raw(
    "TXN-00000001",
    PEOPLE.alice,
    "purchase",
    100,
    "USD",
    "completed",
    "2026-01-05T12:04:59.999Z",
  ),
  raw("TXN-00000002", PEOPLE.alice, "purchase", 50, "EUR", "pending", "2026-01-05T12:05:00.000Z"),
  raw("TXN-00000003", PEOPLE.bruno, "transfer", 1000, "JPY", "failed", "2026-01-05T12:07:30.000Z"),
  raw("TXN-00000004", PEOPLE.kim, null, 10.5, "GBP", "processing", "2026-01-05T12:09:59.999Z"),
  raw("TXN-00000005", PEOPLE.alice, "purchase", 19.99, "EUR", "cancelled", "2026-01-05T11:59:00Z"),
  raw("TXN-00000006", PEOPLE.bruno, null, 2, "USD", "completed", "2026-01-05T12:10:00.000Z"),
];

/** Bad records, each with a word its quarantine reason must hold. */
const BAD: { value: string; reason: RegExp }[] = [
  { value: "{not json", reason: /JSON/ },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00001", USER_ID: undefined }),
    reason: /USER_ID is missing/,
  },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00002", CURRENCY: "XYZ" }),
    reason: /unknown currency "XYZ"/,
  },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00003", AMOUNT: -5 }),
    reason: /AMOUNT must be greater than 0/,
  },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00004", AMOUNT: "12" }),
    reason: /AMOUNT is not a number/,
  },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00005", TIMESTAMP: "yesterday" }),
    reason: /TIMESTAMP/,
  },
  {
    value: JSON.stringify({ ...GOOD[0], TRANSACTION_ID: "TXN-bad00006", STATUS: "done" }),
    reason: /STATUS/,
  },
];

async function hashes(who: Person) {
  return {
    USER_ID_HASHED: await expectedHmac(KEY, who.USER_ID),
    USER_NAME_HASHED: await expectedHmac(KEY, who.USER_NAME),
    EMAIL_HASHED: await expectedHmac(KEY, who.EMAIL),
  };
}

/** Worked out by hand from DESIGN.md: masks, USD amounts (6 decimals), routing. */
async function expectedSecure() {
  const a = await hashes(PEOPLE.alice);
  const b = await hashes(PEOPLE.bruno);
  const k = await hashes(PEOPLE.kim);
  const aliceRest = {
    CITY: "Paris",
    COUNTRY: "France",
    IP_MASKED: "192.168.1.0",
    STREET_MASKED: "nn Rue de la Paix",
  };
  const brunoRest = {
    CITY: "Rome",
    COUNTRY: "Italy",
    IP_MASKED: "2001:db8:85a3::",
    STREET_MASKED: "nnnB Via Roma n",
  };
  const kimRest = {
    CITY: "Pyongyang",
    COUNTRY: "North Korea",
    IP_MASKED: "10.20.30.0",
    STREET_MASKED: "n Main Street",
  };
  const rows = [
    [GOOD[0], a, aliceRest, 100],
    [GOOD[1], a, aliceRest, 55],
    [GOOD[2], b, brunoRest, 6.7],
    [GOOD[3], k, kimRest, 13.125],
    [GOOD[4], a, aliceRest, 21.989],
    [GOOD[5], b, brunoRest, 2],
  ] as const;
  return rows.map(([g, h, rest, usd]) => ({
    secure: {
      TRANSACTION_ID: g.TRANSACTION_ID,
      ...h,
      TRANSACTION_TYPE: g.TRANSACTION_TYPE,
      AMOUNT: g.AMOUNT,
      CURRENCY: g.CURRENCY,
      STATUS: g.STATUS,
      ...rest,
      TIMESTAMP: g.TIMESTAMP,
    },
    usd,
  }));
}

async function runOnce(topics: ProcessorTopics, groupSuffix = "") {
  const config = await testConfig();
  if (groupSuffix) config.kafka.groupId += groupSuffix;
  const kafka = testKafka();
  try {
    const processor = startProcessor({ config, kafka, log: silentLogger, once: true, topics });
    return await processor.done;
  } finally {
    await kafka.close();
  }
}

Deno.test("processor: every derived feed equals the values worked out by hand; bad records are quarantined", async () => {
  const topics = isolatedTopics();
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: topics.raw, partitions: 1 }, { topic: topics.rates }]);
    const producer = await kafka.producer();
    await producer.send(RATES.map((r) => ({
      topic: topics.rates,
      key: r.CURRENCY,
      value: JSON.stringify(r),
    })));
    // Bad records sit between the good ones, in one partition.
    const values: { key: string; value: string }[] = [];
    GOOD.forEach((g, i) => {
      values.push({ key: g.USER_ID, value: JSON.stringify(g) });
      if (BAD[i]) values.push({ key: "U99999", value: BAD[i].value });
    });
    values.push({ key: "U99999", value: BAD[6].value });
    await producer.send(values.map((v) => ({ topic: topics.raw, ...v })));

    const stats = await runOnce(topics);
    assert.equal(stats.recordsIn, GOOD.length + BAD.length);
    assert.equal(stats.rejected, BAD.length);

    const expected = await expectedSecure();
    const byId = (records: { value: string | null }[]) =>
      new Map(records.map((r) => {
        const v = JSON.parse(r.value!);
        return [v.TRANSACTION_ID, v];
      }));

    // TRANSACTIONS_SECURE: every good transaction, pseudonymized, keyed by the hashed user.
    const secure = await readTopic(kafka, topics.secure);
    assert.equal(secure.length, GOOD.length);
    assert.deepEqual(
      byId(secure),
      new Map(expected.map((e) => [e.secure.TRANSACTION_ID, e.secure])),
    );
    for (const r of secure) assert.equal(r.key, JSON.parse(r.value!).USER_ID_HASHED);

    // TRANSACTIONS_USD: SECURE plus AMOUNT_USD and TARGET_CURRENCY.
    const usd = await readTopic(kafka, topics.usd);
    assert.deepEqual(
      byId(usd),
      new Map(expected.map((e) => [
        e.secure.TRANSACTION_ID,
        { ...e.secure, AMOUNT_USD: e.usd, TARGET_CURRENCY: "USD" },
      ])),
    );

    // Routing: blacklisted by raw id (U00042) or country (North Korea); one feed per status.
    const blacklisted = await readTopic(kafka, topics.blacklisted);
    assert.deepEqual(
      [...byId(blacklisted).keys()].sort(),
      ["TXN-00000003", "TXN-00000004", "TXN-00000006"],
    );
    const statusOf: Record<string, string[]> = {
      completed: ["TXN-00000001", "TXN-00000006"],
      pending: ["TXN-00000002"],
      failed: ["TXN-00000003"],
      processing: ["TXN-00000004"],
      cancelled: ["TXN-00000005"],
    };
    for (const [status, ids] of Object.entries(statusOf)) {
      const routed = byId(await readTopic(kafka, topics.byStatus[status]));
      assert.deepEqual([...routed.keys()].sort(), ids, status);
      for (const id of ids) {
        assert.deepEqual(
          routed.get(id),
          expected.find((e) => e.secure.TRANSACTION_ID === id)!.secure,
        );
      }
    }

    // USER_SPENDING_BY_TYPE: per (user, type), null type as UNKNOWN; key = ["hash","type"].
    const a = await expectedHmac(KEY, "U00001");
    const b = await expectedHmac(KEY, "U00042");
    const k = await expectedHmac(KEY, "U00007");
    const spending = latestByKey(await readTopic(kafka, topics.userSpending));
    const spend = (u: string, type: string, total: number, count: number, last: string) =>
      [
        JSON.stringify([u, type]),
        {
          USER_ID_HASHED: u,
          TRANSACTION_TYPE: type,
          TOTAL_AMOUNT_USD: total,
          TRANSACTION_COUNT: count,
          LAST_TRANSACTION_AT: last,
        },
      ] as const;
    assert.deepEqual(
      spending,
      new Map([
        spend(a, "purchase", 176.989, 3, "2026-01-05T12:05:00.000Z"),
        spend(b, "transfer", 6.7, 1, "2026-01-05T12:07:30.000Z"),
        spend(k, "UNKNOWN", 13.125, 1, "2026-01-05T12:09:59.999Z"),
        spend(b, "UNKNOWN", 2, 1, "2026-01-05T12:10:00.000Z"),
      ]),
    );

    // SPEND_LAST_FIVE_MIN_BY_TYPE: [start, start + 5 min); 12:04:59.999 and 12:05:00.000 fall
    // in different windows. Every window update is on the topic, keyed by type.
    const windowRecords = await readTopic(kafka, topics.windows);
    for (const r of windowRecords) assert.equal(r.key, JSON.parse(r.value!).TRANSACTION_TYPE);
    const windows = new Map<string, unknown>();
    for (const r of windowRecords) {
      const v = JSON.parse(r.value!);
      windows.set(`${v.TRANSACTION_TYPE} ${v.WINDOW_START}`, v);
    }
    const win = (type: string, start: string, end: string, total: number, count: number) =>
      [
        `${type} ${start}`,
        {
          TRANSACTION_TYPE: type,
          TOTAL_AMOUNT_USD: total,
          TRANSACTION_COUNT: count,
          WINDOW_START: start,
          WINDOW_END: end,
        },
      ] as const;
    assert.deepEqual(
      windows,
      new Map([
        win("purchase", "2026-01-05T11:55:00.000Z", "2026-01-05T12:00:00.000Z", 21.989, 1),
        win("purchase", "2026-01-05T12:00:00.000Z", "2026-01-05T12:05:00.000Z", 100, 1),
        win("purchase", "2026-01-05T12:05:00.000Z", "2026-01-05T12:10:00.000Z", 55, 1),
        win("transfer", "2026-01-05T12:05:00.000Z", "2026-01-05T12:10:00.000Z", 6.7, 1),
        win("UNKNOWN", "2026-01-05T12:05:00.000Z", "2026-01-05T12:10:00.000Z", 13.125, 1),
        win("UNKNOWN", "2026-01-05T12:10:00.000Z", "2026-01-05T12:15:00.000Z", 2, 1),
      ].sort()),
    );

    // USERS: first and last seen by event time, whatever the arrival order.
    const users = latestByKey(await readTopic(kafka, topics.users));
    const user = async (who: Person, first: string, last: string) =>
      [
        await expectedHmac(KEY, who.USER_ID),
        {
          ...(await hashes(who)),
          CITY: who.CITY,
          COUNTRY: who.COUNTRY,
          FIRST_SEEN_AT: first,
          LAST_SEEN_AT: last,
        },
      ] as const;
    assert.deepEqual(
      users,
      new Map([
        await user(PEOPLE.alice, "2026-01-05T11:59:00.000Z", "2026-01-05T12:05:00.000Z"),
        await user(PEOPLE.bruno, "2026-01-05T12:07:30.000Z", "2026-01-05T12:10:00.000Z"),
        await user(PEOPLE.kim, "2026-01-05T12:09:59.999Z", "2026-01-05T12:09:59.999Z"),
      ]),
    );

    // Quarantine: the raw bytes, untouched, with the reason in a header.
    const rejected = await readTopic(kafka, topics.rejected);
    assert.deepEqual(rejected.map((r) => r.value), BAD.map((b) => b.value));
    rejected.forEach((r, i) => assert.match(r.headers.reason, BAD[i].reason));

    // No raw personal value in any derived topic, keys included.
    const personal = Object.values(PEOPLE).flatMap((p) => [
      p.USER_ID,
      p.USER_NAME,
      p.EMAIL,
      p.IP_ADDRESS,
      p.STREET,
    ]);
    for (const topic of outputTopics(topics)) {
      const all = await readTopic(kafka, topic);
      assert.ok(all.length > 0, `${topic} has records`);
      for (const r of all) {
        const text = `${r.key} ${r.value}`;
        for (const value of personal) {
          assert.ok(!text.includes(value), `${topic} holds the raw value ${value}`);
        }
      }
    }
  } finally {
    await kafka.close();
  }
});
