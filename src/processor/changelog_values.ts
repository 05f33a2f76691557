/**
 * Reading the processor's own table changelogs back at start (restore): values are checked
 * before they become state, and USER_SPENDING_BY_TYPE keys are split into user and type.
 */

/**
 * Changelog values are checked before they become state: a record written to the topic by
 * something else must not turn a total into NaN. Throws a RangeError; the caller skips it.
 */
export function requireFields(
  value: Record<string, unknown>,
  texts: string[],
  numbers: string[],
): void {
  for (const field of texts) {
    if (typeof value[field] !== "string") throw new RangeError(`${field} is not a string`);
  }
  for (const field of numbers) {
    if (typeof value[field] !== "number" || !Number.isFinite(value[field])) {
      throw new RangeError(`${field} is not a number`);
    }
  }
  for (const field of texts.filter((f) => f.endsWith("_AT") || f === "WINDOW_START")) {
    if (Number.isNaN(Date.parse(value[field] as string))) {
      throw new RangeError(`${field} is not a time`);
    }
  }
}
