/**
 * Currency rates from the CURRENCY_RATES feed (CURRENCY, RATE_TO_USD), keyed by CURRENCY. The
 * processor reads the topic to its end before it converts anything, then keeps following it.
 */
import type { KafkaRecord } from "../kafka/client.ts";

export type RateTable = Map<string, number>;

const decoder = new TextDecoder();

/**
 * Applies one CURRENCY_RATES record to `rates`: a valid rate sets the currency, a tombstone
 * removes it. Returns false for a record that is neither (left out, counted by the caller).
 */
export function applyRateRecord(rates: RateTable, record: KafkaRecord): boolean {
  const key = record.key ? decoder.decode(record.key) : undefined;
  if (record.value === null) {
    if (key !== undefined) rates.delete(key);
    return key !== undefined;
  }
  try {
    const value = JSON.parse(decoder.decode(record.value)) as Record<string, unknown>;
    const currency = value?.CURRENCY;
    const rate = value?.RATE_TO_USD;
    if (typeof currency !== "string" || currency === "") return false;
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) return false;
    rates.set(currency, rate);
    return true;
  } catch {
    return false;
  }
}
