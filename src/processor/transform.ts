/**
 * The per-record transformations of the processor, free of Kafka so they can be tested alone:
 * pseudonymize (TRANSACTIONS_SECURE), convert (TRANSACTIONS_USD) and route (blacklist, status).
 */
import { hmacHexSync, type HmacKey } from "./pseudonymize.ts";
import { maskIp, maskStreet } from "./mask.ts";
import type { RawTransaction } from "./validate.ts";

/** A pseudonymized transaction: the value of TRANSACTIONS_SECURE and of the routed feeds. */
export interface SecureTransaction {
  TRANSACTION_ID: string;
  USER_ID_HASHED: string;
  USER_NAME_HASHED: string;
  EMAIL_HASHED: string;
  TRANSACTION_TYPE: string | null;
  AMOUNT: number;
  CURRENCY: string;
  STATUS: string;
  CITY: string;
  COUNTRY: string;
  IP_MASKED: string;
  STREET_MASKED: string;
  TIMESTAMP: string;
}

export interface UsdTransaction extends SecureTransaction {
  AMOUNT_USD: number;
  TARGET_CURRENCY: "USD";
}

export interface Blacklist {
  userIds: readonly string[];
  countries: readonly string[];
}

/** HMAC of a value, remembered: the same few thousand users come back again and again. */
export type Hasher = (value: string) => string;

/** Values a cachingHasher remembers (least recently used go first). */
const HASH_CACHE_ENTRIES = 100_000;

export function cachingHasher(key: HmacKey, entries = HASH_CACHE_ENTRIES): Hasher {
  const cache = new Map<string, string>();
  return (value) => {
    const known = cache.get(value);
    if (known !== undefined) {
      // A Map iterates in insertion order: re-inserting keeps the oldest entry first.
      cache.delete(value);
      cache.set(value, known);
      return known;
    }
    const hash = hmacHexSync(key, value);
    if (cache.size >= entries) cache.delete(cache.keys().next().value!);
    cache.set(value, hash);
    return hash;
  };
}

/** Replaces USER_ID, USER_NAME, EMAIL by HMACs and IP_ADDRESS, STREET by masked forms. */
export function pseudonymize(tx: RawTransaction, hash: Hasher): SecureTransaction {
  return {
    TRANSACTION_ID: tx.TRANSACTION_ID,
    USER_ID_HASHED: hash(tx.USER_ID),
    USER_NAME_HASHED: hash(tx.USER_NAME),
    EMAIL_HASHED: hash(tx.EMAIL),
    TRANSACTION_TYPE: tx.TRANSACTION_TYPE,
    AMOUNT: tx.AMOUNT,
    CURRENCY: tx.CURRENCY,
    STATUS: tx.STATUS,
    CITY: tx.CITY,
    COUNTRY: tx.COUNTRY,
    IP_MASKED: maskIp(tx.IP_ADDRESS),
    STREET_MASKED: maskStreet(tx.STREET),
    TIMESTAMP: tx.TIMESTAMP,
  };
}

/** Rounds to 6 decimals, the precision of every USD amount the processor writes. */
export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** USD amounts as whole micro-dollars, so sums are exact integers. */
export function toMicros(usd: number): number {
  return Math.round(usd * 1e6);
}

export function toUsd(secure: SecureTransaction, rateToUsd: number): UsdTransaction {
  return { ...secure, AMOUNT_USD: round6(secure.AMOUNT * rateToUsd), TARGET_CURRENCY: "USD" };
}

/**
 * JSON of toUsd(secure) from the JSON of `secure`, without serializing the record twice: the same
 * text JSON.stringify gives (the two fields come last, in this order).
 */
export function usdJson(secureJson: string, usd: UsdTransaction): string {
  return `${secureJson.slice(0, -1)},"AMOUNT_USD":${
    JSON.stringify(usd.AMOUNT_USD)
  },"TARGET_CURRENCY":"USD"}`;
}

/** Blacklisting looks at the raw user id (the configured list holds raw ids) and the country. */
export function isBlacklisted(tx: RawTransaction, blacklist: Blacklist): boolean {
  return blacklist.userIds.includes(tx.USER_ID) || blacklist.countries.includes(tx.COUNTRY);
}

/** TRANSACTIONS_<STATUS>: the feed a status routes to. */
export function statusFeedName(status: string): string {
  return `TRANSACTIONS_${status.toUpperCase()}`;
}

/** A null type is grouped as "UNKNOWN" in the aggregates. */
export function typeOrUnknown(type: string | null): string {
  return type ?? "UNKNOWN";
}
