/**
 * Protobuf feeds: records written by Confluent's Python ProtobufSerializer (a message that is the
 * second of its file, so the message indexes matter; a nested message, an enum, a repeated field,
 * bytes and int64) become the lake lines of the documented mapping.
 */
import assert from "node:assert/strict";
import { findFeed } from "../../src/config/config.ts";
import { partitionPath, rejectedPath } from "../../src/lake/layout.ts";
import { consumeOnce, readLines } from "../lake/_fixtures.ts";
import { confluentPython, REGISTRY_URL, registryFeed, registryTest } from "./_registry.ts";

const PROTO = {
  package: "test.pb",
  message: "Reading",
  enums: [{ name: "Color", values: ["RED", "GREEN"] }],
  messages: [
    { name: "Other", fields: [["X", 1, "string", "optional", null]] },
    {
      name: "Reading",
      fields: [
        ["ID", 1, "string", "optional", null],
        ["N", 2, "int64", "optional", null],
        ["PRICE", 3, "double", "optional", null],
        ["OK", 4, "bool", "optional", null],
        ["COLOR", 5, "enum", "optional", ".test.pb.Color"],
        ["ADDRESS", 6, "message", "optional", ".test.pb.Reading.Address"],
        ["TAGS", 7, "string", "repeated", null],
        ["DATA", 8, "bytes", "optional", null],
      ],
      nested: [{ name: "Address", fields: [["CITY", 1, "string", "optional", null]] }],
    },
  ],
};

registryTest(
  "Protobuf records from Confluent's serializer become lake lines with the documented mapping",
  async () => {
    const { feed, config, kafka, close } = await registryFeed("REG_PROTO", "protobuf");
    try {
      const out = await confluentPython({
        registry: REGISTRY_URL,
        topic: feed,
        format: "protobuf",
        proto: PROTO,
        records: [
          {
            ID: "r1",
            N: "123456789012",
            PRICE: 1.5,
            OK: true,
            COLOR: "GREEN",
            ADDRESS: { CITY: "Lyon" },
            TAGS: ["a", "b"],
            DATA: "AAE=",
          },
          { ID: "r2" },
        ],
      });
      assert.equal(out[0].produced, 2, JSON.stringify(out));
      const stats = await consumeOnce(config, kafka);
      const f = findFeed(config, feed)!;
      const day = new Date().toISOString().slice(0, 10);
      const quarantined = await readLines(rejectedPath(config.dataLakeDir, f, day)).catch(() => []);
      assert.deepEqual(quarantined.map((l) => JSON.parse(l).reason), []);
      assert.deepEqual([stats[feed].written, stats[feed].rejected], [2, 0]);
      const lines = (await readLines(partitionPath(config.dataLakeDir, f, day)))
        .map((l) => JSON.parse(l));
      assert.deepEqual(lines, [{
        ID: "r1",
        N: 123456789012,
        PRICE: 1.5,
        OK: true,
        COLOR: "GREEN",
        ADDRESS_CITY: "Lyon",
        TAGS: '["a","b"]',
        DATA: "AAE=",
      }, {
        // proto3: unset scalars read as their defaults, an unset message as null.
        ID: "r2",
        N: 0,
        PRICE: 0,
        OK: false,
        COLOR: "RED",
        ADDRESS_CITY: null,
        TAGS: "[]",
        DATA: "",
      }]);
    } finally {
      await close();
    }
  },
);
