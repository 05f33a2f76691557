/** The kafkajs speed-ups write the same bytes and pick the same partitions as kafkajs itself. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Partitioners } from "kafkajs";
import Decoder from "kafkajs/src/protocol/decoder.js";
import Encoder from "kafkajs/src/protocol/encoder.js";
import kafkajsMurmur2 from "kafkajs/src/producer/partitioners/default/murmur2.js";
import { cachedPartitioner, murmur2, speedUpKafkaJs } from "../../src/kafka/kafkajs_speedups.ts";
import { MAX_CALL_TOPIC_BYTES, MAX_RECORD_BYTES, splitForProduce } from "../../src/kafka/limits.ts";
import { DataError } from "../../src/core/errors.ts";

/** Zig-zag LEB128, written from the Kafka protocol's definition with BigInt. */
function varlong(value: bigint): number[] {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

type AnyEncoder = {
  writeVarInt(v: number): AnyEncoder;
  writeVarLong(v: unknown): AnyEncoder;
  buffer: Uint8Array;
};
const fresh = () => new (Encoder as unknown as new () => AnyEncoder)();

Deno.test("speedUpKafkaJs: varints and varlongs are byte for byte the protocol's", () => {
  speedUpKafkaJs();
  const ints = [
    0,
    1,
    -1,
    63,
    64,
    -64,
    -65,
    127,
    128,
    300,
    2 ** 20,
    -(2 ** 20),
    2 ** 31 - 1,
    -(2 ** 31),
  ];
  for (const v of ints) {
    assert.deepEqual([...fresh().writeVarInt(v).buffer], varlong(BigInt(v)), `varint ${v}`);
  }
  const longs = [...ints, 2 ** 40, -(2 ** 40), 2 ** 51, -(2 ** 51), 1_796_000_000_000];
  for (const v of longs) {
    assert.deepEqual([...fresh().writeVarLong(v).buffer], varlong(BigInt(v)), `varlong ${v}`);
  }
  // And read back by kafkajs's decoder (its varlong reader is replaced too).
  for (const v of longs) {
    const decoder = new (Decoder as unknown as new (b: Uint8Array) => {
      readVarLong(): { toString(): string };
      offset: number;
    })(Buffer.from([...varlong(BigInt(v)), 0x2a]));
    assert.equal(decoder.readVarLong().toString(), String(v), `read varlong ${v}`);
    assert.equal(decoder.offset, varlong(BigInt(v)).length);
  }
  const huge = 2n ** 62n + 12345n;
  const decoder = new (Decoder as unknown as new (b: Uint8Array) => {
    readVarLong(): { toString(): string };
  })(Buffer.from(varlong(huge)));
  assert.equal(decoder.readVarLong().toString(), String(huge));
  // Many values in one encoder, growing its buffer past the first allocation.
  const many = fresh();
  const expected: number[] = [];
  for (let i = -5000; i < 5000; i += 7) {
    many.writeVarInt(i * 997);
    expected.push(...varlong(BigInt(i * 997)));
  }
  assert.deepEqual([...many.buffer], expected);
});

Deno.test("cachedPartitioner: the same partition as kafkajs's DefaultPartitioner, key or not", () => {
  const ours = cachedPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2, 3, 4].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  const keys = ["", "a", "ab", "abc", "abcd", "U00042", "é€😀", "x".repeat(999)];
  for (let i = 0; i < 500; i++) keys.push(crypto.randomUUID() + i);
  for (const key of keys) {
    for (const message of [{ key, value: "v" }, { key, value: "v" }]) { // twice: the cache
      assert.equal(
        ours({ topic: "t", partitionMetadata, message }),
        theirs({ topic: "t", partitionMetadata, message }),
        key,
      );
    }
    const bytes = new TextEncoder().encode(key);
    assert.equal(murmur2(bytes), kafkajsMurmur2(key));
  }
  assert.equal(
    ours({ topic: "t", partitionMetadata, message: { key: "k", value: "v", partition: 3 } }),
    3,
  );
  const spread = new Set<number>();
  for (let i = 0; i < 20; i++) {
    spread.add(ours({ topic: "t", partitionMetadata, message: { key: null, value: "v" } }));
  }
  assert.ok(spread.size > 1, "records without a key go round robin");
});

Deno.test("splitForProduce: calls under the byte and count limits, order kept per topic; oversized refused", () => {
  const items = Array.from({ length: 3000 }, (_, i) => ({
    topic: i % 3 === 0 ? "a" : "b",
    bytes: i % 100 === 0 ? 400_000 : 500,
    i,
  }));
  const calls = splitForProduce(items, (x) => x.topic, (x) => x.bytes);
  assert.deepEqual(calls.flat().map((x) => x.i), items.map((x) => x.i));
  for (const call of calls) {
    for (const topic of ["a", "b"]) {
      const mine = call.filter((x) => x.topic === topic);
      assert.ok(mine.reduce((n, x) => n + x.bytes, 0) <= MAX_CALL_TOPIC_BYTES);
      assert.ok(mine.length <= 1000);
    }
  }
  assert.throws(
    () =>
      splitForProduce(
        [{ topic: "a", bytes: MAX_RECORD_BYTES + 1 }],
        (x) => x.topic,
        (x) => x.bytes,
      ),
    DataError,
  );
});
