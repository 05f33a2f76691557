/**
 * Per-message costs of kafkajs, cut without changing a byte on the wire (the profile is in
 * NOTES-processor.md): its Encoder allocates a Buffer for every varint it writes (six per
 * record), its varlong reader and writer go through BigInt-backed Longs for every timestamp
 * delta, and its default partitioner hashes every key with Long arithmetic. The varint and
 * varlong functions are replaced on the Encoder's and Decoder's prototypes by ones that work in
 * place on numbers; the partitioner is a Java-compatible murmur2 on 32-bit integers with a cache
 * per key. tests/kafka/kafkajs_speedups_test.ts checks them against the protocol and kafkajs.
 */
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";
import Decoder from "kafkajs/src/protocol/decoder.js";
import Encoder from "kafkajs/src/protocol/encoder.js";
import Long from "kafkajs/src/utils/long.js";

interface EncoderInternals {
  buf: Uint8Array;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderInternals;
  writeVarLong(value: unknown): EncoderInternals;
}

interface DecoderInternals {
  buffer: Uint8Array;
  offset: number;
  readVarLong(): unknown;
}

const proto = (Encoder as unknown as { prototype: EncoderInternals }).prototype;
const decoderProto = (Decoder as unknown as { prototype: DecoderInternals }).prototype;
const LongClass = Long as unknown as new (value: bigint) => unknown;
let installed = false;

/** Installs the in-place varint writers (and the varlong reader) once per process. */
export function speedUpKafkaJs(): void {
  if (installed) return;
  installed = true;
  const originalReadVarLong = decoderProto.readVarLong;
  // Every record's timestamp delta is a varlong: kafkajs adds a BigInt-backed Long per byte.
  // Up to 7 bytes (49 bits) the value is exact in a double; longer ones go the old way.
  decoderProto.readVarLong = function (this: DecoderInternals) {
    const buf = this.buffer;
    const start = this.offset;
    let zigzag = 0;
    let scale = 1;
    for (let i = start; i < start + 7 && i < buf.length; i++) {
      const byte = buf[i];
      zigzag += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.offset = i + 1;
        const value = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
        return new LongClass(BigInt(value));
      }
      scale *= 128;
    }
    return originalReadVarLong.call(this);
  };
  const originalVarLong = proto.writeVarLong;
  // Same bytes as kafkajs's LEB128 loop, written into the buffer instead of a new Buffer.
  proto.writeUVarInt = function (this: EncoderInternals, value: number) {
    this.ensureAvailable(5);
    const buf = this.buf;
    let offset = this.offset;
    while ((value & 0xffffff80) !== 0) {
      buf[offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[offset++] = value & 0x7f;
    this.offset = offset;
    return this;
  };
  // Zig-zag varlong for numbers that are exact in a double; anything else (Long) as before.
  proto.writeVarLong = function (this: EncoderInternals, value: unknown) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || Math.abs(value) > 2 ** 51) {
      return originalVarLong.call(this, value);
    }
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    this.ensureAvailable(10);
    const buf = this.buf;
    let offset = this.offset;
    while (zigzag >= 128) {
      buf[offset++] = (zigzag % 128) | 128;
      zigzag = Math.floor(zigzag / 128);
    }
    buf[offset++] = zigzag;
    this.offset = offset;
    return this;
  };
}

const encoder = new TextEncoder();

/** Kafka's murmur2 (the Java client's, as kafkajs computes it), on the key's UTF-8 bytes. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= data[tail + 2] << 16;
    // falls through
    case 2:
      h ^= data[tail + 1] << 8;
    // falls through
    case 1:
      h ^= data[tail];
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Keys whose hash is remembered: derived streams are keyed by a few thousand user hashes. */
const HASH_CACHE_ENTRIES = 50_000;

/**
 * kafkajs's DefaultPartitioner, same choices (explicit partition, then murmur2 of the key, then
 * round robin over partitions with a leader), with the hash of recent keys cached.
 */
export const cachedPartitioner: ICustomPartitioner = () => {
  const hashes = new Map<string, number>();
  const counters = new Map<string, number>();
  const hashOf = (key: string | Uint8Array): number => {
    if (typeof key !== "string") return murmur2(key);
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = murmur2(encoder.encode(key));
      if (hashes.size >= HASH_CACHE_ENTRIES) hashes.clear();
      hashes.set(key, hash);
    }
    return hash;
  };
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const count = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) {
      return (hashOf(message.key as string | Uint8Array) & 0x7fffffff) % count;
    }
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 2 ** 31)) + 1;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(next & 0x7fffffff) % available.length].partitionId;
    return (next & 0x7fffffff) % count;
  };
};
