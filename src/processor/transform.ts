/**
 * The per-record transformations of the processor, free of Kafka so they can be tested alone:
 * pseudonymize (TRANSACTIONS_SECURE), convert (TRANSACTIONS_USD) and route (blacklist, status).
 */
import { hmacHex, type HmacKey } from "./pseudonymize.ts";
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
export type Hasher = (value: string) => Promise<string>;

/** Values a cachingHasher remembers before it starts over. */
const HASH_CACHE_ENTRIES = 100_000;

export function cachingHasher(key: HmacKey): Hasher {
  const cache = new Map<string, string>();
  return async (value) => {
    const known = cache.get(value);
    if (known !== undefined) return known;
    const hash = await hmacHex(key, value);
    // Bounded: dropping everything at the limit is crude but keeps memory flat and costs little.
    if (cache.size >= HASH_CACHE_ENTRIES) cache.clear();
    cache.set(value, hash);
    return hash;
  };
}

/** Replaces USER_ID, USER_NAME, EMAIL by HMACs and IP_ADDRESS, STREET by masked forms. */
export async function pseudonymize(tx: RawTransaction, hash: Hasher): Promise<SecureTransaction> {
  const [userId, userName, email] = await Promise.all([
    hash(tx.USER_ID),
    hash(tx.USER_NAME),
    hash(tx.EMAIL),
  ]);
  return {
    TRANSACTION_ID: tx.TRANSACTION_ID,
    USER_ID_HASHED: userId,
    USER_NAME_HASHED: userName,
    EMAIL_HASHED: email,
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
