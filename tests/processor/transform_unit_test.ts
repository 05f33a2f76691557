/** Unit tests of the pure parts of the processor: masks, validation, conversion, windows. */
import assert from "node:assert/strict";
import { windowStart } from "../../src/processor/windows.ts";
import { Aggregates } from "./pipeline.ts";
import { formatIpv6, maskIp, maskStreet } from "../../src/processor/mask.ts";
import { isBlacklisted, round6, toUsd } from "../../src/processor/transform.ts";
import { validateRaw } from "../../src/processor/validate.ts";

const enc = new TextEncoder();
const RATES = new Map([["USD", 1], ["EUR", 1.1]]);
const GOOD = {
  TRANSACTION_ID: "TXN-0000abcd",
  USER_ID: "U00001",
  USER_NAME: "Alice Martin",
  EMAIL: "alice@example.com",
  TRANSACTION_TYPE: "purchase",
  AMOUNT: 10,
  CURRENCY: "EUR",
  STATUS: "completed",
  CITY: "Paris",
  COUNTRY: "France",
  IP_ADDRESS: "1.2.3.4",
  STREET: "1 Rue X",
  TIMESTAMP: "2026-01-05T12:00:00Z",
};
const check = (value: unknown) =>
  validateRaw(enc.encode(typeof value === "string" ? value : JSON.stringify(value)), RATES);

Deno.test("maskIp: IPv4 loses its last octet, IPv6 keeps 48 bits in RFC 5952 form", () => {
  assert.equal(maskIp("192.168.1.77"), "192.168.1.0");
  assert.equal(maskIp("8.8.8.8"), "8.8.8.0");
  assert.equal(maskIp("2001:DB8:85A3:08D3:1319:8A2E:0370:7348"), "2001:db8:85a3::");
  assert.equal(maskIp("2001:db8::1"), "2001:db8::");
  assert.equal(maskIp("2001:0:0:1::5"), "2001::");
  assert.equal(maskIp("::1"), "::");
  assert.equal(maskIp("::ffff:192.0.2.1"), "::");
  assert.throws(() => maskIp("300.1.1.1"), RangeError);
  assert.throws(() => maskIp("1:2:3:4:5:6:7:8:9"), RangeError);
  assert.throws(() => maskIp("1::2::3"), RangeError);
  assert.throws(() => maskIp("01.2.3.4"), RangeError);
});

Deno.test("formatIpv6: longest zero run compressed, first on a tie, single zero kept", () => {
  assert.equal(formatIpv6([1, 0, 0, 2, 0, 0, 0, 3]), "1:0:0:2::3");
  assert.equal(formatIpv6([1, 0, 0, 2, 0, 0, 3, 4]), "1::2:0:0:3:4");
  assert.equal(formatIpv6([1, 0, 2, 3, 4, 5, 6, 7]), "1:0:2:3:4:5:6:7");
});

Deno.test("maskStreet: every digit becomes n", () => {
  assert.equal(maskStreet("221B Baker Street 2"), "nnnB Baker Street n");
  assert.equal(maskStreet("Rue sans numéro"), "Rue sans numéro");
});

Deno.test("validateRaw: accepts a good record and names what is wrong in a bad one", () => {
  const ok = check(GOOD);
  assert.ok(ok.ok);
  assert.equal(ok.rate, 1.1);
  assert.equal(ok.eventTime, Date.parse("2026-01-05T12:00:00Z"));
  assert.ok(check({ ...GOOD, TRANSACTION_TYPE: null }).ok);
  const reasons: [unknown, RegExp][] = [
    ["[1,2", /not valid JSON/],
    ["[1,2]", /not a JSON object/],
    [{ ...GOOD, EMAIL: undefined }, /EMAIL is missing/],
    [{ ...GOOD, CITY: 3 }, /CITY is not a string/],
    [{ ...GOOD, AMOUNT: 0 }, /AMOUNT must be greater than 0/],
    [{ ...GOOD, AMOUNT: -1 }, /AMOUNT must be greater than 0/],
    [{ ...GOOD, CURRENCY: "XYZ" }, /unknown currency "XYZ"/],
    [{ ...GOOD, STATUS: "COMPLETED" }, /STATUS/],
    [{ ...GOOD, TIMESTAMP: "2026-01-05" }, /TIMESTAMP/],
    [{ ...GOOD, TIMESTAMP: "2026-02-30T00:00:00Z" }, /TIMESTAMP/],
    [{ ...GOOD, TRANSACTION_TYPE: "gift" }, /TRANSACTION_TYPE/],
    [{ ...GOOD, IP_ADDRESS: "localhost" }, /IP_ADDRESS/],
  ];
  for (const [value, reason] of reasons) {
    const result = check(value);
    assert.ok(!result.ok, JSON.stringify(value));
    assert.match(result.reason, reason);
  }
  assert.match((validateRaw(null, RATES) as { reason: string }).reason, /empty/);
});

Deno.test("toUsd and blacklist: 6 decimals, raw id or country", () => {
  assert.equal(round6(1.23456749), 1.234567);
  const secure = {
    TRANSACTION_ID: "T",
    USER_ID_HASHED: "h",
    USER_NAME_HASHED: "n",
    EMAIL_HASHED: "e",
    TRANSACTION_TYPE: null,
    AMOUNT: 19.99,
    CURRENCY: "EUR",
    STATUS: "completed",
    CITY: "c",
    COUNTRY: "x",
    IP_MASKED: "1.2.3.0",
    STREET_MASKED: "n",
    TIMESTAMP: "t",
  };
  assert.deepEqual(toUsd(secure, 1.1), { ...secure, AMOUNT_USD: 21.989, TARGET_CURRENCY: "USD" });
  const list = { userIds: ["U00042"], countries: ["North Korea"] };
  const tx = { ...GOOD };
  assert.equal(isBlacklisted(tx, list), false);
  assert.equal(isBlacklisted({ ...tx, USER_ID: "U00042" }, list), true);
  assert.equal(isBlacklisted({ ...tx, COUNTRY: "North Korea" }, list), true);
});

Deno.test("Aggregates: window boundaries, exact sums, one update per key per drain, restore", () => {
  assert.equal(
    windowStart(Date.parse("2026-01-05T12:04:59.999Z")),
    Date.parse("2026-01-05T12:00Z"),
  );
  assert.equal(
    windowStart(Date.parse("2026-01-05T12:05:00.000Z")),
    Date.parse("2026-01-05T12:05Z"),
  );
  const usd = (amount: number, time: string, type: string | null = "purchase") => ({
    TRANSACTION_ID: "T",
    USER_ID_HASHED: "u1",
    USER_NAME_HASHED: "n",
    EMAIL_HASHED: "e",
    TRANSACTION_TYPE: type,
    AMOUNT: amount,
    CURRENCY: "USD",
    STATUS: "completed",
    CITY: "c",
    COUNTRY: "x",
    IP_MASKED: "i",
    STREET_MASKED: "s",
    TIMESTAMP: time,
    AMOUNT_USD: amount,
    TARGET_CURRENCY: "USD" as const,
  });
  const agg = new Aggregates();
  for (let i = 0; i < 10; i++) {
    const t = "2026-01-05T12:01:00.000Z";
    agg.apply(usd(0.1, t), Date.parse(t));
  }
  const t2 = "2026-01-05T12:05:00.000Z";
  agg.apply(usd(0.2, t2, null), Date.parse(t2));
  const updates = agg.drain();
  // 0.1 ten times is exactly 1 (sums are kept in micro-dollars).
  assert.deepEqual(updates.userSpending.map((u) => [u.TRANSACTION_TYPE, u.TOTAL_AMOUNT_USD]), [
    ["purchase", 1],
    ["UNKNOWN", 0.2],
  ]);
  assert.deepEqual(updates.windows.map((w) => [w.TRANSACTION_TYPE, w.WINDOW_START, w.WINDOW_END]), [
    ["purchase", "2026-01-05T12:00:00.000Z", "2026-01-05T12:05:00.000Z"],
    ["UNKNOWN", "2026-01-05T12:05:00.000Z", "2026-01-05T12:10:00.000Z"],
  ]);
  assert.equal(updates.users.length, 1);
  assert.deepEqual(agg.drain(), { userSpending: [], windows: [], users: [] });

  // A restored copy goes on from the same totals.
  const copy = new Aggregates();
  for (const v of updates.userSpending) {
    copy.restoreUserSpending(`${v.USER_ID_HASHED}|${v.TRANSACTION_TYPE}`, { ...v });
  }
  for (const v of updates.windows) copy.restoreWindow(v.TRANSACTION_TYPE, { ...v });
  for (const v of updates.users) copy.restoreUser(v.USER_ID_HASHED, { ...v });
  const t3 = "2026-01-05T12:02:00.000Z";
  copy.apply(usd(0.5, t3), Date.parse(t3));
  const next = copy.drain();
  assert.equal(next.userSpending[0].TOTAL_AMOUNT_USD, 1.5);
  assert.equal(next.userSpending[0].TRANSACTION_COUNT, 11);
  assert.equal(next.windows[0].TRANSACTION_COUNT, 11);
  assert.equal(next.users[0].FIRST_SEEN_AT, "2026-01-05T12:01:00.000Z");
  assert.equal(next.users[0].LAST_SEEN_AT, "2026-01-05T12:05:00.000Z");
});

Deno.test("Aggregates: a malformed changelog value is refused, not folded into the state", () => {
  const agg = new Aggregates();
  assert.throws(() => agg.restoreUserSpending("u|purchase", { USER_ID_HASHED: "u" }), RangeError);
  assert.throws(
    () => agg.restoreWindow("purchase", { TRANSACTION_TYPE: "purchase", WINDOW_START: "x" }),
    RangeError,
  );
  assert.throws(() => agg.restoreUser("u", { USER_ID_HASHED: "u" }), RangeError);
  assert.deepEqual(agg.sizes(), { userSpending: 0, windows: 0, users: 0 });
});
