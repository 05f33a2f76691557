/**
 * Avro feeds into the lake, with records written by Confluent's own Python client and Avro
 * serializer through the real registry (Apicurio, scripts/schema-registry.sh): the documented
 * type mapping, an unknown schema id and undecodable payloads to quarantine, a schema evolution
 * adding a column, an incompatible change refused by the registry.
 */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { consumeOnce, readLines } from "../lake/_fixtures.ts";
import { confluentPython, REGISTRY_URL, registryFeed, registryTest } from "./_registry.ts";

const RICH_SCHEMA = {
  type: "record",
  name: "Payment",
  namespace: "test.registry",
  fields: [
    { name: "ID", type: "string" },
    { name: "TS", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "TS_US", type: { type: "long", logicalType: "timestamp-micros" } },
    { name: "DAY", type: { type: "int", logicalType: "date" } },
    {
      name: "PRICE",
      type: { type: "bytes", logicalType: "decimal", precision: 20, scale: 4 },
    },
    { name: "COUNT", type: "long" },
    { name: "RATIO", type: "double" },
    { name: "OK", type: "boolean" },
    { name: "RAW", type: "bytes" },
    { name: "TAG", type: { type: "fixed", name: "Tag", size: 2 } },
    { name: "COLOR", type: { type: "enum", name: "Color", symbols: ["RED", "GREEN"] } },
    { name: "NOTE", type: ["null", "string"], default: null },
    { name: "EITHER", type: ["int", "string"] },
    {
      name: "ADDRESS",
      type: {
        type: "record",
        name: "Address",
        fields: [{ name: "CITY", type: "string" }, { name: "ZIP", type: ["null", "int"] }],
      },
    },
    { name: "ITEMS", type: { type: "array", items: "int" } },
    { name: "ATTRS", type: { type: "map", values: "string" } },
  ],
};

registryTest(
  "Avro records from Confluent's serializer become lake lines with the documented mapping",
  async () => {
    const { feed, config, kafka, close } = await registryFeed("REG_AVRO", "avro", {
      timeField: "TS",
    });
    try {
      const out = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify(RICH_SCHEMA),
        records: [{
          ID: "p1",
          TS: { $datetime: "2024-03-05T10:11:12.345Z" },
          TS_US: { $datetime: "2024-03-05T10:11:12.345678Z" },
          DAY: { $date: "2024-02-29" },
          PRICE: { $decimal: "-12345678901234.5678" },
          COUNT: 999999999999999,
          RATIO: 0.1,
          OK: true,
          RAW: { $bytes: "AAEC/w==" },
          TAG: { $bytes: "q80=" },
          COLOR: "GREEN",
          NOTE: null,
          EITHER: 7,
          ADDRESS: { CITY: "Lyon", ZIP: 69001 },
          ITEMS: [1, 2],
          ATTRS: { a: "x" },
        }, {
          ID: "p2",
          TS: { $datetime: "2000-01-01T00:00:00.001Z" },
          TS_US: { $datetime: "2024-03-05T10:11:12Z" },
          DAY: { $date: "1969-12-31" },
          PRICE: { $decimal: "0.0001" },
          COUNT: -1,
          RATIO: -2.5,
          OK: false,
          RAW: { $bytes: "" },
          TAG: { $bytes: "AAA=" },
          COLOR: "RED",
          NOTE: "hello",
          EITHER: "seven",
          ADDRESS: { CITY: "Köln", ZIP: null },
          ITEMS: [],
          ATTRS: {},
        }],
      });
      assert.deepEqual(out[0].produced, 2, JSON.stringify(out));
      const stats = await consumeOnce(config, kafka);
      const f = findFeed(config, feed)!;
      const day = new Date().toISOString().slice(0, 10);
      const quarantined = await readLines(rejectedPath(config.dataLakeDir, f, day)).catch(() => []);
      assert.deepEqual(quarantined.map((l) => JSON.parse(l).reason), []);
      assert.deepEqual([stats[feed].written, stats[feed].rejected], [2, 0]);
      const lines = [
        ...await readLines(partitionPath(config.dataLakeDir, f, "2024-03-05")),
        ...await readLines(partitionPath(config.dataLakeDir, f, "2000-01-01")),
      ].map((l) => JSON.parse(l));
      assert.deepEqual(lines, [{
        ID: "p1",
        TS: "2024-03-05T10:11:12.345Z",
        TS_US: "2024-03-05T10:11:12.345678Z",
        DAY: "2024-02-29",
        PRICE: "-12345678901234.5678",
        COUNT: 999999999999999,
        RATIO: 0.1,
        OK: true,
        RAW: "AAEC/w==",
        TAG: "q80=",
        COLOR: "GREEN",
        NOTE: null,
        EITHER: "7",
        ADDRESS_CITY: "Lyon",
        ADDRESS_ZIP: 69001,
        ITEMS: "[1,2]",
        ATTRS: '{"a":"x"}',
      }, {
        ID: "p2",
        TS: "2000-01-01T00:00:00.001Z",
        TS_US: "2024-03-05T10:11:12.000000Z",
        DAY: "1969-12-31",
        PRICE: "0.0001",
        COUNT: -1,
        RATIO: -2.5,
        OK: false,
        RAW: "",
        TAG: "AAA=",
        COLOR: "RED",
        NOTE: "hello",
        EITHER: "seven",
        ADDRESS_CITY: "Köln",
        ADDRESS_ZIP: null,
        ITEMS: "[]",
        ATTRS: "{}",
      }]);
    } finally {
      await close();
    }
  },
);

registryTest(
  "An unknown schema id, a missing magic byte and a truncated payload go to quarantine",
  async () => {
    const { feed, config, kafka, close } = await registryFeed("REG_BAD", "avro");
    try {
      const schema = {
        type: "record",
        name: "Small",
        fields: [{ name: "ID", type: "string" }, { name: "N", type: "long" }],
      };
      const good = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        schema: JSON.stringify(schema),
        records: [{ ID: "a", N: 1 }],
      });
      const id = good[0].schemaId as number;
      const header = (schemaId: number) =>
        [0, ...new Uint8Array(new Uint32Array([0]).buffer)]
          .map((_, i) => i === 0 ? 0 : (schemaId >>> (8 * (4 - i))) & 0xff);
      const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));
      await confluentPython({
        action: "raw",
        topic: feed,
        values: [
          b64([...header(987654), 2, 0x62, 2]), // unknown id
          b64([...new TextEncoder().encode('{"ID":"x"}')]), // JSON, not the wire format
          b64([...header(id), 2]), // string length 1, then nothing
          b64([...header(id), 2, 0x62, 2, 9, 9]), // trailing bytes
        ],
      });
      const stats = await consumeOnce(config, kafka);
      assert.deepEqual(stats[feed].written, 1);
      assert.deepEqual(stats[feed].rejected, 4);
      const day = new Date().toISOString().slice(0, 10);
      const f = findFeed(config, feed)!;
      const rejected = (await readLines(rejectedPath(config.dataLakeDir, f, day)))
        .map((l) => JSON.parse(l));
      assert.deepEqual(rejected.length, 4);
      assertStringIncludes(rejected[0].reason, "unknown schema id 987654");
      assertStringIncludes(rejected[1].reason, "magic byte");
      assertStringIncludes(rejected[2].reason, `schema id ${id}`);
      assertStringIncludes(rejected[3].reason, `schema id ${id}`);
      // The quarantine keeps the bytes as they came.
      assert.deepEqual(rejected[1].valueUtf8, '{"ID":"x"}');
    } finally {
      await close();
    }
  },
);

function assertStringIncludes(text: string, part: string) {
  assert.ok(
    text.includes(part),
    `${JSON.stringify(text)} does not include ${JSON.stringify(part)}`,
  );
}
