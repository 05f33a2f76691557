/**
 * Event times from outside: ISO 8601, parsed without Date.parse (which rolls 2026-02-30 over to
 * March and reads two-digit years as 19xx), and held to a window of UTC years. A time outside the
 * window is a reason to quarantine, never an exception: one record must not stop a partition.
 */
import { daysInMonth } from "../core/dates.ts";

/** Accepted UTC years, both ends included. */
export interface TimeWindow {
  readonly minYear: number;
  readonly maxYear: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { minYear: 1970, maxYear: 2200 };
/** What a window may be set to: four-digit years, so every day is a YYYY-MM-DD folder. */
export const TIME_WINDOW_LIMITS: TimeWindow = { minYear: 0, maxYear: 9999 };

const DAY_MS = 86_400_000;

/** ISO 8601 date-time (or date) with an optional zone; no zone means UTC. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Milliseconds since the epoch of an ISO 8601 time, or null when it is not one. */
export function parseIsoTime(value: string): number | null {
  const m = ISO_TIME.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return null;
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== "Z") {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(-2));
    if (hours > 23 || minutes > 59) return null;
    offset = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 +
    second * 1000 + fraction - offset;
}

/** Why the instant `ms` is outside `window`, or undefined when it is inside. */
export function windowProblem(ms: number, window: TimeWindow): string | undefined {
  if (
    Number.isFinite(ms) && ms >= daysFromCivil(window.minYear, 1, 1) * DAY_MS &&
    ms < daysFromCivil(window.maxYear + 1, 1, 1) * DAY_MS
  ) return undefined;
  return `is outside the accepted years ${window.minYear}–${window.maxYear} (UTC)`;
}

/**
 * The UTC day (YYYY-MM-DD) of an ISO 8601 time inside `window`, or the reason it has none. The
 * common `YYYY-MM-DDTHH:MM:SS[.fff]Z` shape is read without a regex: this runs once per record.
 */
export function dayOfTime(
  value: unknown,
  window: TimeWindow,
): { day: string } | { reason: string } {
  if (typeof value !== "string") return { reason: `is not an ISO 8601 time: ${brief(value)}` };
  const fast = utcDayFast(value);
  if (fast !== undefined) {
    const year = Number(fast.slice(0, 4));
    if (year >= window.minYear && year <= window.maxYear) return { day: fast };
  }
  const ms = parseIsoTime(value);
  if (ms === null) return { reason: `is not an ISO 8601 time: ${brief(value)}` };
  const outside = windowProblem(ms, window);
  if (outside) return { reason: `${brief(value)} ${outside}` };
  return { day: utcDay(ms) };
}

/**
 * The day of the common shape `YYYY-MM-DDTHH:MM:SS[.fff]Z` when it is a real date and time,
 * checked without a regex; undefined means "let the general parser decide".
 */
function utcDayFast(s: string): string | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58
  ) return undefined;
  if (n > 20 && (n < 22 || n > 30 || s.charCodeAt(19) !== 46 /* . */)) return undefined;
  for (const i of DIGIT_AT) if (!isDigit(s.charCodeAt(i))) return undefined;
  for (let i = 20; i < n - 1; i++) if (!isDigit(s.charCodeAt(i))) return undefined;
  const year = num(s, 0, 4), month = num(s, 5, 2), day = num(s, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (num(s, 11, 2) > 23 || num(s, 14, 2) > 59 || num(s, 17, 2) > 59) return undefined;
  return s.slice(0, 10);
}

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function num(s: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/** YYYY-MM-DD of `ms` (years 0000–9999). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
