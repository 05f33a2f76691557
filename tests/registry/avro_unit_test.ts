/**
 * The Avro mapping without a registry (unit lane): values encoded by avsc with a plain schema
 * (no logical-type classes, as another writer would) and decoded by ours, for the edge cases the
 * integration test does not reach.
 */
import assert from "node:assert/strict";
import avro from "avsc";
import { avroShape, avroType, decodeAvro } from "../../src/registry/avro.ts";
import { SchemaError } from "../../src/registry/errors.ts";
import { columnTypes } from "../../src/registry/shape.ts";

function roundTrip(fields: unknown[], value: Record<string, unknown>) {
  const schema = JSON.stringify({ type: "record", name: "R", fields });
  const writer = avro.Type.forSchema(JSON.parse(schema), { wrapUnions: true });
  const type = avroType(schema);
  const shape = avroShape(type);
  return { value: decodeAvro(type, shape, writer.toBuffer(value)), columns: columnTypes(shape) };
}

const long = (logicalType: string) => ({ type: "long", logicalType });

Deno.test("Avro times: before 1970, microseconds kept, local times without a zone, times of day", () => {
  const { value, columns } = roundTrip([
    { name: "A", type: long("timestamp-millis") },
    { name: "B", type: long("timestamp-micros") },
    { name: "C", type: long("local-timestamp-millis") },
    { name: "D", type: long("local-timestamp-micros") },
    { name: "E", type: { type: "int", logicalType: "time-millis" } },
    { name: "F", type: long("time-micros") },
    { name: "G", type: { type: "int", logicalType: "date" } },
  ], {
    A: -1,
    B: -1,
    C: 1_700_000_000_123,
    D: 1_700_000_000_123_456,
    E: 45_296_789,
    F: 1,
    G: 19_000,
  });
  assert.deepEqual(value, {
    A: "1969-12-31T23:59:59.999Z",
    B: "1969-12-31T23:59:59.999999Z",
    C: "2023-11-14T22:13:20.123",
    D: "2023-11-14T22:13:20.123456",
    E: "12:34:56.789",
    F: "00:00:00.000001",
    G: "2022-01-08",
  });
  assert.ok(Object.values(columns).every((t) => t === "TEXT"));
});

Deno.test("Avro decimals are exact text, on bytes and fixed, any sign and scale", () => {
  const dec = (scale: number, fixed?: number) =>
    fixed
      ? {
        type: "fixed",
        name: `F${scale}`,
        size: fixed,
        logicalType: "decimal",
        precision: 30,
        scale,
      }
      : { type: "bytes", logicalType: "decimal", precision: 30, scale };
  const bytes = (n: bigint, size: number) => {
    const out = Buffer.alloc(size);
    let v = BigInt.asUintN(size * 8, n);
    for (let i = size - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  };
  const { value, columns } = roundTrip(
    [
      { name: "A", type: dec(2) },
      { name: "B", type: dec(0) },
      { name: "C", type: dec(6, 16) },
      { name: "D", type: dec(3) },
    ],
    {
      A: bytes(-1230n, 2),
      B: bytes(12345678901234567890n, 9),
      C: bytes(-1n, 16),
      D: bytes(5n, 1),
    },
  );
  assert.deepEqual(value, { A: "-12.30", B: "12345678901234567890", C: "-0.000001", D: "0.005" });
  assert.deepEqual(columns, { A: "TEXT", B: "TEXT", C: "TEXT", D: "TEXT" });
});

Deno.test("Avro unions: optional values, numeric unions REAL, mixed unions TEXT", () => {
  const fields = [
    { name: "A", type: ["null", "long"] },
    { name: "B", type: ["int", "double"] },
    { name: "C", type: ["null", "boolean", "string"] },
    {
      name: "D",
      type: ["null", { type: "record", name: "In", fields: [{ name: "X", type: "int" }] }],
    },
  ];
  const one = roundTrip(fields, { A: null, B: { double: 1.5 }, C: { boolean: true }, D: null });
  assert.deepEqual(one.value, { A: null, B: 1.5, C: "true", D_X: null });
  assert.deepEqual(one.columns, { A: "INTEGER", B: "REAL", C: "TEXT", D_X: "INTEGER" });
  const two = roundTrip(fields, {
    A: { long: 7 },
    B: { int: 2 },
    C: { string: "s" },
    D: { In: { X: 4 } },
  });
  assert.deepEqual(two.value, { A: 7, B: 2, C: "s", D_X: 4 });
});

Deno.test("Avro: schemas the lake refuses, payloads that do not decode", () => {
  assert.throws(() => avroShape(avroType('"string"')), SchemaError);
  assert.throws(() => avroType("{not json"), SchemaError);
  assert.throws(
    () => avroType('{"type":"record","name":"R","fields":[{"name":"A","type":"nope"}]}'),
    SchemaError,
  );
  assert.throws(
    () =>
      avroShape(avroType(JSON.stringify({
        type: "record",
        name: "R",
        fields: [
          { name: "A_B", type: "int" },
          { name: "A", type: { type: "record", name: "S", fields: [{ name: "B", type: "int" }] } },
        ],
      }))),
    /same column A_B/,
  );
  const schema = JSON.stringify({
    type: "record",
    name: "R",
    fields: [{ name: "N", type: "long" }],
  });
  const type = avroType(schema);
  const shape = avroShape(type);
  // 2^60 as a zigzag varint: past the exact range of JS numbers.
  const big = avro.Type.forSchema(JSON.parse(schema), {
    registry: {
      long: avro.types.LongType.__with({
        fromBuffer: (b: Buffer) => b.readBigInt64LE(),
        toBuffer: (n: bigint) => {
          const b = Buffer.alloc(8);
          b.writeBigInt64LE(n);
          return b;
        },
        fromJSON: BigInt,
        toJSON: Number,
        isValid: (n: unknown) => typeof n === "bigint",
        compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
      }),
    },
  }).toBuffer({ N: 1n << 60n });
  assert.throws(() => decodeAvro(type, shape, big), /precision/);
  assert.throws(() => decodeAvro(type, shape, new Uint8Array([])));
  assert.throws(() => decodeAvro(type, shape, new Uint8Array([2, 2])), /trailing/);
});
