/**
 * Five-field cron expressions as Deno.cron reads them (UTC): `parseCron` is the one check of
 * PIPELINE_SCHEDULE (config.ts), and `nextRun` shows "next run" in /status. Deno.cron itself does
 * the scheduling.
 */
import { ValidationError } from "../core/errors.ts";

interface Fields {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Standard cron: when both day fields are restricted, either one matching is enough. */
  dayOr: boolean;
}

const RANGES: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

export function parseCron(expression: string): Fields {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new ValidationError(`cron expression ${JSON.stringify(expression)} needs five fields`);
  }
  const sets = parts.map((part, i) => parseField(part, RANGES[i][0], RANGES[i][1], expression));
  const weekdays = new Set([...sets[4]].map((d) => d % 7)); // 7 is Sunday too
  return {
    minutes: sets[0],
    hours: sets[1],
    days: sets[2],
    months: sets[3],
    weekdays,
    dayOr: parts[2] !== "*" && parts[4] !== "*",
  };
}

/** The first minute strictly after `from` that matches `expression`. */
export function nextRun(expression: string, from: Date = new Date()): Date {
  const f = parseCron(expression);
  const t = new Date(from.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  // Eight years cover every satisfiable expression (29 February included); past that it never
  // fires. Each step jumps a month, a day, an hour or a minute, so this ends quickly either way.
  const end = from.getTime() + 8 * 366 * 86_400_000;
  while (t.getTime() <= end) {
    if (!f.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0);
      continue;
    }
    const dayOk = f.dayOr
      ? f.days.has(t.getUTCDate()) || f.weekdays.has(t.getUTCDay())
      : f.days.has(t.getUTCDate()) && f.weekdays.has(t.getUTCDay());
    if (!dayOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0);
      continue;
    }
    if (!f.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0);
      continue;
    }
    if (f.minutes.has(t.getUTCMinutes())) return t;
    t.setUTCMinutes(t.getUTCMinutes() + 1);
  }
  throw new ValidationError(`cron expression ${JSON.stringify(expression)} never fires`);
}

function parseField(part: string, min: number, max: number, expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of part.split(",")) {
    const [range, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : digits(stepText);
    let lo: number, hi: number;
    if (range === "*") [lo, hi] = [min, max];
    else if (range.includes("-")) [lo, hi] = range.split("-").map(digits) as [number, number];
    else [lo, hi] = [digits(range), stepText === undefined ? digits(range) : max];
    if (
      ![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || lo > hi || step < 1
    ) {
      throw new ValidationError(
        `cron expression ${JSON.stringify(expression)}: ${JSON.stringify(item)} is out of range`,
      );
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/** Plain decimal digits only: Number() would also take "", "0x10" or "1e1". */
function digits(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : NaN;
}
