/**
 * Validation of raw transactions (DESIGN.md, "Raw transaction"). A record that fails is not an
 * error of the processor: it is quarantined with the reason this module gives, and the stream
 * goes on.
 */
import { STATUSES, TRANSACTION_TYPES } from "../config/settings.ts";
import { fieldOf, parseObject } from "../contract/record.ts";
import {
  DEFAULT_TIME_WINDOW,
  parseIsoTime,
  type TimeWindow,
  windowProblem,
} from "../contract/time.ts";
import { MAX_ABS_NUMBER, numberProblem } from "../contract/values.ts";
import { isIpAddress } from "./mask.ts";
import type { RateTable } from "./rates.ts";

/** A raw transaction that passed every check. Holds personal data: never leaves the processor. */
export interface RawTransaction {
  TRANSACTION_ID: string;
  USER_ID: string;
  USER_NAME: string;
  EMAIL: string;
  TRANSACTION_TYPE: string | null;
  AMOUNT: number;
  CURRENCY: string;
  STATUS: string;
  CITY: string;
  COUNTRY: string;
  IP_ADDRESS: string;
  STREET: string;
  TIMESTAMP: string;
}

export type Validation =
  | { ok: true; tx: RawTransaction; eventTime: number; rate: number }
  | { ok: false; reason: string };

const STRING_FIELDS = [
  "TRANSACTION_ID",
  "USER_ID",
  "USER_NAME",
  "EMAIL",
  "CURRENCY",
  "STATUS",
  "CITY",
  "COUNTRY",
  "IP_ADDRESS",
  "STREET",
  "TIMESTAMP",
] as const;

const STATUS_SET: ReadonlySet<string> = new Set(STATUSES);
const TYPE_SET: ReadonlySet<string> = new Set(TRANSACTION_TYPES);
/** ISO 8601 date and time with seconds and an explicit zone (Z or an offset). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/**
 * Largest AMOUNT accepted, in its currency: one transaction always fits the processor's exact
 * micro-dollar totals (aggregates.ts, MAX_SAFE_INTEGER micro-dollars ≈ 9e9 USD), and AMOUNT_USD
 * stays inside the contract's number range for any sane rate.
 */
export const MAX_AMOUNT = 1e9;

/**
 * Parses and checks one raw record value against the current currency rates. The record
 * contract decides what a value is (strict UTF-8, no BOM, a JSON object) and which event times
 * are sane (`window`); fields are read as own properties only.
 */
export function validateRaw(
  bytes: Uint8Array | null,
  rates: RateTable,
  window: TimeWindow = DEFAULT_TIME_WINDOW,
): Validation {
  if (bytes === null) return reject("value is empty (null)");
  const parsed = parseObject(bytes);
  if ("reason" in parsed) return reject(parsed.reason);
  const fields = parsed.fields;
  const raw = (field: string) => fieldOf(fields, field);

  for (const field of STRING_FIELDS) {
    const value = raw(field);
    if (value === undefined || value === null) return reject(`field ${field} is missing`);
    if (typeof value !== "string") return reject(`field ${field} is not a string`);
    if (value.trim() === "") return reject(`field ${field} is empty`);
  }
  const type = raw("TRANSACTION_TYPE") ?? null;
  if (type !== null && (typeof type !== "string" || !TYPE_SET.has(type))) {
    return reject(
      `field TRANSACTION_TYPE is ${JSON.stringify(type)}; expected one of ${
        TRANSACTION_TYPES.join(", ")
      } or null`,
    );
  }
  const amount = raw("AMOUNT");
  if (amount === undefined || amount === null) return reject("field AMOUNT is missing");
  if (typeof amount !== "number" || !Number.isFinite(amount)) {
    return reject("field AMOUNT is not a number");
  }
  if (amount <= 0) return reject(`field AMOUNT must be greater than 0, got ${amount}`);
  if (amount > MAX_AMOUNT) {
    return reject(`field AMOUNT ${amount} is larger than the accepted ${MAX_AMOUNT}`);
  }
  const status = raw("STATUS") as string;
  if (!STATUS_SET.has(status)) {
    return reject(
      `field STATUS is ${JSON.stringify(status)}; expected one of ${STATUSES.join(", ")}`,
    );
  }
  const timestamp = raw("TIMESTAMP") as string;
  const eventTime = ISO_INSTANT.test(timestamp) ? parseIsoTime(timestamp) : null;
  if (eventTime === null) {
    return reject(`field TIMESTAMP ${JSON.stringify(timestamp)} is not an ISO 8601 instant`);
  }
  const outside = windowProblem(eventTime, window);
  if (outside) return reject(`field TIMESTAMP ${JSON.stringify(timestamp)} ${outside}`);
  if (!isIpAddress(raw("IP_ADDRESS") as string)) {
    return reject("field IP_ADDRESS is not an IPv4 or IPv6 address");
  }
  const currency = raw("CURRENCY") as string;
  const rate = rates.get(currency);
  if (rate === undefined) {
    return reject(`unknown currency ${JSON.stringify(currency)}: no rate in CURRENCY_RATES`);
  }
  if (numberProblem(amount * rate)) {
    return reject(
      `field AMOUNT ${amount} ${currency} is more than ${MAX_ABS_NUMBER} USD at rate ${rate}`,
    );
  }

  const tx: RawTransaction = {
    TRANSACTION_ID: raw("TRANSACTION_ID") as string,
    USER_ID: raw("USER_ID") as string,
    USER_NAME: raw("USER_NAME") as string,
    EMAIL: raw("EMAIL") as string,
    TRANSACTION_TYPE: type as string | null,
    AMOUNT: amount,
    CURRENCY: currency,
    STATUS: status,
    CITY: raw("CITY") as string,
    COUNTRY: raw("COUNTRY") as string,
    IP_ADDRESS: raw("IP_ADDRESS") as string,
    STREET: raw("STREET") as string,
    TIMESTAMP: timestamp,
  };
  return { ok: true, tx, eventTime, rate };
}

function reject(reason: string): Validation {
  return { ok: false, reason };
}
