/**
 * The Schema Registry wire format: a zero "magic" byte, the schema id as a 4-byte big-endian
 * integer, then the payload. Protobuf payloads start with the message indexes (which message of
 * the .proto file): a zigzag varint count and that many zigzag varints, or one 0 byte for the
 * first message.
 */
import { PayloadError } from "./errors.ts";

export interface Framed {
  schemaId: number;
  payload: Uint8Array;
}

export function unframe(bytes: Uint8Array): Framed {
  if (bytes.length < 5) {
    throw new PayloadError(
      `value is ${bytes.length} bytes, too short for the Schema Registry wire format ` +
        `(a zero byte and a 4-byte schema id)`,
    );
  }
  if (bytes[0] !== 0) {
    throw new PayloadError(
      `value does not start with the Schema Registry magic byte 0 (first byte ${bytes[0]}); ` +
        `was it written without the registry serializer?`,
    );
  }
  const schemaId = new DataView(bytes.buffer, bytes.byteOffset + 1, 4).getUint32(0);
  return { schemaId, payload: bytes.subarray(5) };
}

export function frame(schemaId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, schemaId);
  out.set(payload, 5);
  return out;
}

/** Reads Protobuf's message indexes; returns them and the message bytes that follow. */
export function messageIndexes(payload: Uint8Array): { indexes: number[]; rest: Uint8Array } {
  let at = 0;
  const next = (): number => {
    let result = 0;
    let shift = 0;
    while (true) {
      if (at >= payload.length || shift > 28) {
        throw new PayloadError("Protobuf message indexes are truncated or malformed");
      }
      const b = payload[at++];
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7;
    }
    return (result >>> 1) ^ -(result & 1); // zigzag
  };
  const count = next();
  if (count < 0 || count > 100) throw new PayloadError(`Protobuf message index count ${count}`);
  const indexes = count === 0 ? [0] : Array.from({ length: count }, next);
  return { indexes, rest: payload.subarray(at) };
}
