/**
 * Issue 10, the fuzz test: a few hundred generated hostile records (field names from a hostile
 * alphabet, extreme numbers and times, wrong types, huge and empty values, invalid UTF-8) go
 * through produce → process → consume → load and through the API. No command fails, every good
 * record arrives once, every bad one is quarantined or refused with a reason, and no column or
 * folder outside the safe patterns appears. Seeded: a failure names its seed and reproduces.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { silentLogger } from "../../src/core/log.ts";
import { startProcessor } from "../../src/processor/processor.ts";
import { isolatedTopics } from "../processor/fixtures.ts";
import { readTopic } from "../processor/kafka_helpers.ts";
import { setupApi } from "../routes/fixtures.ts";
import { envOf, runMain, testConfig, testKafka, uniqueName } from "../helpers/env.ts";
import { feedsFile, jsonLines, produceBytes, unsafeLakePaths, walk } from "./_helpers.ts";
import { testWithKcat } from "../helpers/needs.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261201);
const COUNT = 300;
const enc = new TextEncoder();

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
  };
}

const HOSTILE_NAMES = [
  "rowid",
  "OID",
  "_rowid_",
  "RowId",
  "constructor",
  "toString",
  "__proto__",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "_SOURCE_FILE",
  "_source_line",
  "_LOADED_AT",
  "_INFERRED",
  "a b",
  "é",
  "x;DROP TABLE ACCOUNTS",
  "",
  "1abc",
  'a"b',
  "a`b",
  "../etc",
  "a".repeat(200),
  "x\u0000y",
  "😀",
];
const HOSTILE_ALPHABET = [..." ;'\"\\/.-é😀\u0000\u202e[]{}$%"];
const BAD_TIMES: unknown[] = [
  "9999-12-31T23:59:59-23:59",
  "0000-01-01T00:00:00+01:00",
  "2201-01-01T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "2026-02-30T00:00:00Z",
  "2026-11-20T25:00:00Z",
  "soon",
  "",
  1700000000,
  true,
];
const BAD_NUMBERS = ["1e303", "-1e16", "1e400", "-1e400", "1152921504606846976"];

interface Case {
  id: string;
  bytes: Uint8Array;
  good: boolean;
  /** Good and made of declared fields only: the API accepts it too. */
  declaredOnly: boolean;
  /** JSON text the API can be sent (undefined for bytes that are not UTF-8). */
  text?: string;
}

/** A time inside 1971–2199 in a random zone. */
function goodTime(r: ReturnType<typeof rng>): string {
  const ms = Date.UTC(r.int(1971, 2199), r.int(0, 11), r.int(1, 28), r.int(0, 23), r.int(0, 59));
  const offset = r.int(-14, 14) * 60;
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const zone = offset === 0 ? "Z" : `${sign}${String(abs / 60).padStart(2, "0")}:00`;
  return `${local}${zone}`;
}

/** Field names of the feed a case is made for (the API's test feed has no INTEGER column). */
interface Schema {
  id: string;
  real: string;
  int?: string;
  time: string;
}

function goodRecord(r: ReturnType<typeof rng>, s: Schema, id: string): Record<string, unknown> {
  const record: Record<string, unknown> = {
    [s.id]: id,
    [s.real]: r.pick([0, -0.5, 1e15, -1e15, 1e-300, r.next() * 1e6]),
    [s.time]: goodTime(r),
  };
  if (s.int) record[s.int] = r.pick([0, 1, -1, 1e15, r.int(-1e9, 1e9), true, false]);
  return record;
}

function stream(r: ReturnType<typeof rng>, s: Schema, prefix: string): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < COUNT; i++) {
    const id = `${prefix}${i}`;
    const record = goodRecord(r, s, id);
    const roll = r.int(0, 9);
    const text = (value: Record<string, unknown>) => JSON.stringify(value);
    const push = (t: string, good: boolean, declaredOnly = good) =>
      cases.push({ id, bytes: enc.encode(t), good, declaredOnly, text: t });
    if (roll <= 3) {
      // Good, sometimes with extra safe text fields: empty, huge, odd but valid characters.
      if (r.next() < 0.5) push(text(record), true);
      else {
        const extra = r.pick(["", "é😀\u202e\"'\\", "x".repeat(r.int(1, 200_000)), "a\nb\r\n"]);
        push(text({ ...record, [`X_${r.int(0, 20)}`]: extra }), true, false);
      }
    } else if (roll === 4) {
      const name = r.next() < 0.6
        ? r.pick(HOSTILE_NAMES)
        : Array.from({ length: r.int(1, 6) }, () => r.pick(HOSTILE_ALPHABET)).join("");
      // Built as text so "__proto__" is a real key, not a prototype change; a null value under
      // a bad name is refused too: the name alone is the reason.
      const value = r.pick(['"v"', "1", "null"]);
      push(`${text(record).slice(0, -1)},${JSON.stringify(name)}:${value}}`, false);
    } else if (roll === 5) {
      const field = s.int && r.next() < 0.5 ? s.int : s.real;
      const t = text({ ...record, [field]: 0 });
      push(t.replace(`"${field}":0`, `"${field}":${r.pick(BAD_NUMBERS)}`), false);
    } else if (roll === 6) {
      push(text({ ...record, [s.time]: r.pick(BAD_TIMES) }), false);
    } else if (roll === 7) {
      const wrong = r.pick<[string, unknown]>([
        [s.id, 7],
        [s.id, ""],
        [s.id, null],
        [s.real, "12"],
        [s.int ?? s.real, s.int ? 1.5 : "x"],
        [s.int ?? s.real, "x"],
        [s.real, { a: 1 }],
        [s.real, [1]],
        [s.time, null],
      ]);
      push(text({ ...record, [wrong[0]]: wrong[1] }), false);
    } else if (roll === 8) {
      const t = text(record);
      const kind = r.int(0, 4);
      if (kind === 0) {
        const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(t)]);
        cases.push({ id, bytes, good: false, declaredOnly: false });
      } else if (kind === 1) {
        const bytes = enc.encode(t);
        bytes[2] = 0xff; // inside the first key: not UTF-8
        cases.push({ id, bytes, good: false, declaredOnly: false });
      } else push(r.pick(["[1,2]", "42", "null", '"text"', "{oops"]), false);
    } else {
      const { [s.id]: _drop, ...rest } = record;
      push(text(rest), false);
    }
  }
  return cases;
}

testWithKcat(
  `fuzz (seed ${SEED}): hostile records through a feed topic, consume and load, and the API`,
  async () => {
    const r = rng(SEED);
    const feed = uniqueName("FZ_STREAM");
    const cases = stream(r, { id: "ID", real: "N", int: "K", time: "TS" }, "G");
    const apiCases = stream(r, { id: "ORDER_ID", real: "AMOUNT", time: "CREATED_AT" }, "A");
    const config = await testConfig();
    const declaration = {
      name: feed,
      kind: "stream",
      primaryKey: ["ID"],
      timeField: "TS",
      columns: { ID: "TEXT", N: "REAL", K: "INTEGER", TS: "TEXT" },
    };
    const file = await feedsFile(config.root, [declaration]);
    const env = { ...envOf(config), FEEDS_FILE: file };
    try {
      await produceBytes(feed, cases.map((c) => c.bytes));
      const consumed = await runMain(["consume", "--once", "--feeds", feed], env);
      assert.equal(consumed.code, 0, consumed.stderr.slice(-2000));

      const lake = config.dataLakeDir;
      const stored = await jsonLines(lake, `${feed}/`);
      const lines = stored.filter((l) => !("reason" in l));
      const rejected = stored.filter((l) => "reason" in l);
      const goods = cases.filter((c) => c.good).map((c) => c.id).sort();
      assert.deepEqual(lines.map((l) => l.ID).sort(), goods, "every good record once");
      assert.equal(rejected.length, cases.length - goods.length, "every bad one quarantined");
      assert.ok(rejected.every((l) => typeof l.reason === "string" && l.reason.length > 5));
      assert.deepEqual(unsafeLakePaths(await walk(lake)), []);

      const loaded = await runMain(["load", "--feeds", feed], env);
      assert.equal(loaded.code, 0, loaded.stderr.slice(-2000));
      assert.match(
        loaded.stdout,
        new RegExp(`${feed}: ${goods.length} inserted, 0 updated, 0 rejected`),
      );
      const db = new DatabaseSync(config.warehousePath, { readOnly: true });
      try {
        const columns = db.prepare(`SELECT name FROM pragma_table_info('${feed}')`).all().map((c) =>
          String(c.name)
        );
        const reserved = new Set([
          "ROWID",
          "OID",
          "_ROWID_",
          ...Object.getOwnPropertyNames(Object.prototype).map((n) => n.toUpperCase()),
        ]);
        for (const column of columns) {
          assert.match(column, /^[A-Za-z_][A-Za-z0-9_]{0,127}$/);
          assert.ok(!reserved.has(column.toUpperCase()), column);
        }
        assert.equal(db.prepare(`SELECT count(*) AS n FROM "${feed}"`).get()!.n, goods.length);
      } finally {
        db.close();
      }
    } finally {
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }

    // The API: declared-only goods are 202, everything else a 400 with a reason.
    const api = await setupApi({ loadRows: false });
    try {
      for (const c of apiCases) {
        const res = await api.request(`/feeds/${api.orders}/records`, {
          method: "POST",
          token: api.tokens.writer,
          headers: { "Content-Type": "application/json" },
          body: c.bytes as Uint8Array<ArrayBuffer>,
        });
        const answer = await res.json();
        if (c.declaredOnly) assert.equal(res.status, 202, `${c.id}: ${JSON.stringify(answer)}`);
        else {
          assert.ok(
            res.status === 400 || res.status === 413,
            `${c.id}: ${res.status} ${JSON.stringify(answer).slice(0, 200)}`,
          );
          assert.ok(typeof answer.error === "string" && answer.error.length > 5, c.id);
        }
      }
    } finally {
      await api.close();
    }
  },
);

const RATES = [
  { CURRENCY: "USD", RATE_TO_USD: 1 },
  { CURRENCY: "EUR", RATE_TO_USD: 1.1 },
  { CURRENCY: "JPY", RATE_TO_USD: 0.0067 },
];

testWithKcat(
  `fuzz (seed ${SEED}): hostile raw transactions through process, then consume and load`,
  async () => {
    const r = rng(SEED + 1);
    const topics = isolatedTopics();
    const kafka = testKafka();
    const config = await testConfig();
    try {
      await kafka.ensureTopics([{ topic: topics.raw, partitions: 1 }, { topic: topics.rates }]);
      const producer = await kafka.producer();
      await producer.send(
        RATES.map((x) => ({ topic: topics.rates, key: x.CURRENCY, value: JSON.stringify(x) })),
      );
      await producer.close();

      const cases: { id: string; bytes: Uint8Array; good: boolean }[] = [];
      for (let i = 0; i < COUNT; i++) {
        const id = `TXN-F${String(i).padStart(7, "0")}`;
        const tx: Record<string, unknown> = {
          TRANSACTION_ID: id,
          USER_ID: `U${String(r.int(0, 99999)).padStart(5, "0")}`,
          USER_NAME: r.pick(["Jane Doe", "é😀", "x".repeat(r.int(1, 50_000))]),
          EMAIL: "jane.doe@example.org",
          TRANSACTION_TYPE: r.pick(["purchase", "transfer", null]),
          AMOUNT: r.pick([0.01, 1, 999.99, 1e9, r.next() * 1e6 + 0.01]),
          CURRENCY: r.pick(RATES).CURRENCY,
          STATUS: r.pick(["completed", "failed", "pending"]),
          CITY: "Paris",
          COUNTRY: "France",
          IP_ADDRESS: "192.168.1.77",
          STREET: "12 Rue de la Paix",
          TIMESTAMP: new Date(Date.UTC(r.int(1971, 2199), r.int(0, 11), r.int(1, 28)))
            .toISOString(),
        };
        const roll = r.int(0, 6);
        const text = JSON.stringify(tx);
        if (roll <= 2) {
          // Extra fields, hostile names included, are not part of the raw contract: dropped.
          const name = r.pick(HOSTILE_NAMES);
          cases.push({
            id,
            bytes: enc.encode(`${text.slice(0, -1)},${JSON.stringify(name)}:1}`),
            good: true,
          });
        } else if (roll === 3) {
          cases.push({
            id,
            bytes: enc.encode(JSON.stringify({ ...tx, TIMESTAMP: r.pick(BAD_TIMES) })),
            good: false,
          });
        } else if (roll === 4) {
          const amount = r.pick(["1e303", "1e400", "-1", "0", '"12"', "1e13", "null"]);
          cases.push({
            id,
            bytes: enc.encode(text.replace(/"AMOUNT":[^,]+/, `"AMOUNT":${amount}`)),
            good: false,
          });
        } else if (roll === 5) {
          const kind = r.int(0, 2);
          const bytes = kind === 0
            ? new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(text)])
            : kind === 1
            ? new Uint8Array([
              ...enc.encode(text.slice(0, 10)),
              0xc3,
              0x28,
              ...enc.encode(text.slice(10)),
            ])
            : enc.encode(r.pick(["[]", "{", "1e400", " "]));
          cases.push({ id, bytes, good: false });
        } else {
          const field = r.pick(["USER_ID", "CURRENCY", "STATUS", "IP_ADDRESS"]);
          cases.push({
            id,
            bytes: enc.encode(
              JSON.stringify({
                ...tx,
                [field]: r.pick(["", 5, null, field === "USER_ID" ? " " : "XYZ"]),
              }),
            ),
            good: false,
          });
        }
      }
      await produceBytes(topics.raw, cases.map((c) => c.bytes));

      const stats = await startProcessor({ config, kafka, log: silentLogger, once: true, topics })
        .done;
      const goods = cases.filter((c) => c.good).map((c) => c.id).sort();
      const passed = (await readTopic(kafka, topics.secure)).map((x) => JSON.parse(x.value!));
      const unexpected = passed.filter((x) => !goods.includes(x.TRANSACTION_ID));
      assert.deepEqual(unexpected, [], "only good transactions pass");
      assert.equal(stats.recordsIn, cases.length);
      assert.equal(stats.rejected, cases.length - goods.length);
      const rejected = await readTopic(kafka, topics.rejected);
      assert.equal(rejected.length, cases.length - goods.length);
      assert.ok(rejected.every((x) => (x.headers.reason ?? "").length > 5));

      // The processor's secure stream, declared as a feed, consumed and loaded.
      // Declared as settings.ts declares TRANSACTIONS_SECURE (its columns typed), on our topic.
      const secure = config.feeds.find((f) => f.name === "TRANSACTIONS_SECURE")!;
      const file = await feedsFile(config.root, [{
        name: topics.secure,
        kind: "stream",
        primaryKey: secure.primaryKey,
        timeField: secure.timeField,
        columns: secure.columns,
      }]);
      const env = { ...envOf(config), FEEDS_FILE: file };
      const consumed = await runMain(["consume", "--once", "--feeds", topics.secure], env);
      assert.equal(consumed.code, 0, consumed.stderr.slice(-2000));
      const stored = await jsonLines(config.dataLakeDir, `${topics.secure}/`);
      assert.deepEqual(
        stored.filter((l) => !("reason" in l)).map((l) => l.TRANSACTION_ID).sort(),
        goods,
      );
      assert.equal(stored.filter((l) => "reason" in l).length, 0);
      assert.deepEqual(unsafeLakePaths(await walk(config.dataLakeDir)), []);
      const loaded = await runMain(["load", "--feeds", topics.secure], env);
      assert.equal(loaded.code, 0, loaded.stderr.slice(-2000));
      assert.match(
        loaded.stdout,
        new RegExp(`${topics.secure}: ${goods.length} inserted, 0 updated, 0 rejected`),
      );
    } finally {
      await kafka.close();
      await Deno.remove(config.root, { recursive: true }).catch(() => {});
    }
  },
);
