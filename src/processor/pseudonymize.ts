/**
 * Pseudonymization of personal fields (DESIGN.md, "The processor"). HMAC, not a bare hash: without
 * the key nobody can rebuild the hash of a guessed id. The key is imported once and reused.
 */
const encoder = new TextEncoder();

export type HmacKey = CryptoKey;

export async function importHmacKey(secret: string): Promise<HmacKey> {
  return await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** Lowercase hex HMAC-SHA256 of `value`. */
export async function hmacHex(key: HmacKey, value: string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(value)));
  let hex = "";
  for (const byte of signature) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
