/** The static CURRENCY_RATES reference data the producer publishes (rates to USD, fixed). */
export const CURRENCY_RATES: Readonly<Record<string, number>> = {
  USD: 1,
  EUR: 1.08,
  GBP: 1.27,
  JPY: 0.0067,
  INR: 0.012,
  CHF: 1.13,
  CAD: 0.74,
  AUD: 0.66,
};

/** The records of the CURRENCY_RATES feed, keyed by CURRENCY. */
export function currencyRateRecords(): { CURRENCY: string; RATE_TO_USD: number }[] {
  return Object.entries(CURRENCY_RATES).map(([CURRENCY, RATE_TO_USD]) => ({
    CURRENCY,
    RATE_TO_USD,
  }));
}
