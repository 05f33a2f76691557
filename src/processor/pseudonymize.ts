/**
 * Pseudonymization of personal fields (DESIGN.md, "The processor"). HMAC, not a bare hash: without
 * the key nobody can rebuild the hash of a guessed id. node:crypto's HMAC is synchronous, so the
 * processor hashes a batch without an await per value (WebCrypto's sign is async only).
 */
import { createHmac } from "node:crypto";

/** The HMAC key, kept opaque so callers cannot log it by accident. */
export interface HmacKey {
  readonly kind: "hmac-sha256";
  readonly secret: string;
  toJSON(): string;
}

export function hmacKey(secret: string): HmacKey {
  return { kind: "hmac-sha256", secret, toJSON: () => "[hmac key]" };
}

/** Lowercase hex HMAC-SHA256 of `value`. */
export function hmacHexSync(key: HmacKey, value: string): string {
  return createHmac("sha256", key.secret).update(value, "utf8").digest("hex");
}
