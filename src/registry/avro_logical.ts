/**
 * Avro logical types as the lake stores them (avsc applies them while decoding, and reverses them
 * when the processor encodes its outputs). Times become ISO 8601 text, decimals exact decimal
 * text; see the README's "Topics with a schema" for the whole mapping.
 */
import avro from "avsc";

type Schema = { precision?: number; scale?: number; size?: number };

const LogicalType = avro.types.LogicalType as unknown as new (
  schema: unknown,
  opts: unknown,
) => object;

/** Milliseconds in a day, and the sane range of a JS Date (±8.64e15 ms). */
const DAY_MS = 86_400_000;
const MAX_DATE_MS = 8.64e15;

function isoOfMillis(ms: number, zone: boolean): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new RangeError(`timestamp ${ms} ms is outside the range of dates`);
  }
  const iso = new Date(ms).toISOString();
  return zone ? iso : iso.slice(0, -1);
}

/** ISO text with six fractional digits: microseconds are kept, not rounded to milliseconds. */
function isoOfMicros(us: number, zone: boolean): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = isoOfMillis(ms, true);
  const text = `${iso.slice(0, -1)}${String(rest).padStart(3, "0")}`;
  return zone ? `${text}Z` : text;
}

function millisOfIso(value: unknown): number {
  const ms = typeof value === "string"
    ? Date.parse(value.endsWith("Z") ? value : `${value}Z`)
    : NaN;
  if (Number.isNaN(ms)) throw new TypeError(`not an ISO 8601 time: ${JSON.stringify(value)}`);
  return ms;
}

function microsOfIso(value: unknown): number {
  const ms = millisOfIso(value);
  const fraction = /\.(\d+)Z?$/.exec(String(value))?.[1] ?? "";
  return ms * 1000 + Number(fraction.padEnd(6, "0").slice(3, 6));
}

/**
 * timestamp-millis / -micros and their local- forms (no zone): one class, made per unit and zone.
 * Micros keep six fractional digits; local times are written without the "Z".
 */
function timestampType(unit: "millis" | "micros", zone: boolean) {
  const [toIso, fromIso] = unit === "millis"
    ? [isoOfMillis, millisOfIso]
    : [isoOfMicros, microsOfIso];
  return class Timestamp extends LogicalType {
    _fromValue(v: number) {
      return toIso(v, zone);
    }
    _toValue(v: unknown) {
      return fromIso(v);
    }
  };
}

class DateType extends LogicalType {
  _fromValue(days: number) {
    return isoOfMillis(days * DAY_MS, true).slice(0, 10);
  }
  _toValue(v: unknown) {
    return Math.floor(millisOfIso(`${v}T00:00:00Z`) / DAY_MS);
  }
}

/** Time of day: HH:MM:SS.sss (time-millis) or HH:MM:SS.ssssss (time-micros). */
class TimeMillis extends LogicalType {
  _fromValue(ms: number) {
    return isoOfMillis(ms, true).slice(11, 23);
  }
  _toValue(v: unknown) {
    return millisOfIso(`1970-01-01T${v}`);
  }
}

class TimeMicros extends LogicalType {
  _fromValue(us: number) {
    return isoOfMicros(us, true).slice(11, 26);
  }
  _toValue(v: unknown) {
    return microsOfIso(`1970-01-01T${v}`);
  }
}

/**
 * decimal on bytes or fixed: the unscaled two's-complement big-endian integer, shown exactly as
 * decimal text ("-12.30" for unscaled -1230, scale 2). Never a float: no digit is lost.
 */
class Decimal extends LogicalType {
  #scale: number;
  #size?: number;
  constructor(schema: Schema, opts: unknown) {
    super(schema, opts);
    this.#scale = schema.scale ?? 0;
    this.#size = schema.size;
    if (!Number.isInteger(this.#scale) || this.#scale < 0) {
      throw new Error(`decimal scale ${schema.scale} is not a whole number >= 0`);
    }
  }
  _fromValue(bytes: Uint8Array) {
    let n = 0n;
    for (const b of bytes) n = (n << 8n) | BigInt(b);
    if (bytes.length > 0 && bytes[0] & 0x80) n -= 1n << BigInt(bytes.length * 8);
    const negative = n < 0n;
    const digits = (negative ? -n : n).toString().padStart(this.#scale + 1, "0");
    const whole = digits.slice(0, digits.length - this.#scale);
    const fraction = this.#scale > 0 ? `.${digits.slice(digits.length - this.#scale)}` : "";
    return `${negative ? "-" : ""}${whole}${fraction}`;
  }
  _toValue(v: unknown) {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(v));
    if (!m || (m[3]?.length ?? 0) > this.#scale) {
      throw new TypeError(`not a decimal of scale ${this.#scale}: ${JSON.stringify(v)}`);
    }
    let n = BigInt(m[2] + (m[3] ?? "").padEnd(this.#scale, "0"));
    if (m[1]) n = -n;
    const out: number[] = [];
    const size = this.#size;
    // Shortest two's complement (bytes) or exactly `size` bytes (fixed).
    do {
      out.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (
      size ? out.length < size : !((n === 0n && !(out[0] & 0x80)) || (n === -1n && out[0] & 0x80))
    );
    return Buffer.from(out);
  }
}

/** Logical types avsc applies while decoding and encoding (others decode as their base type). */
export const LOGICAL_TYPES = {
  "timestamp-millis": timestampType("millis", true),
  "timestamp-micros": timestampType("micros", true),
  "local-timestamp-millis": timestampType("millis", false),
  "local-timestamp-micros": timestampType("micros", false),
  date: DateType,
  "time-millis": TimeMillis,
  "time-micros": TimeMicros,
  decimal: Decimal,
} as unknown as Record<string, new (schema: unknown, opts: unknown) => avro.types.LogicalType>;
