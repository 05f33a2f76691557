/**
 * The one logger. Every line is an event with a stable name and fields (counts, feeds, durations).
 * On a terminal it prints a short human line (src/core/log_human.ts; routine detail only at
 * debug); otherwise one JSON object per line on stderr, so stdout stays free for command output.
 * Both go through src/core/terminal.ts, which keeps a progress bar and log lines apart.
 * Fields whose name looks secret are never printed.
 */
import { humanLine } from "./log_human.ts";
import type { Fields, Level } from "./log_types.ts";
import { stderrTerminal } from "./terminal.ts";

export type { Fields, Level } from "./log_types.ts";

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Field names whose values are secrets: never logged (here) and never audited (governance). */
export const SECRET_FIELD = /token|secret|password|anonymization_?key|authorization/i;

export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  level?: Level;
  /** Human-friendly lines (a terminal) instead of JSON lines. */
  pretty?: boolean;
  sink?: LogSink;
}

const stderrSink: LogSink = { write: (line) => stderrTerminal.line(line) };

export class Logger {
  #level: number;
  #pretty: boolean;
  #sink: LogSink;
  #base: Fields;

  constructor(options: LoggerOptions = {}, base: Fields = {}) {
    this.#level = LEVELS[options.level ?? "info"];
    this.#pretty = options.pretty ?? false;
    this.#sink = options.sink ?? stderrSink;
    this.#base = base;
  }

  /** A logger that adds `fields` to every event (e.g. `{ component: "lake" }`). */
  child(fields: Fields): Logger {
    const child = new Logger({}, { ...this.#base, ...fields });
    child.#level = this.#level;
    child.#pretty = this.#pretty;
    child.#sink = this.#sink;
    return child;
  }

  get pretty(): boolean {
    return this.#pretty;
  }

  debug(event: string, fields: Fields = {}): void {
    this.#emit("debug", event, fields);
  }
  info(event: string, fields: Fields = {}): void {
    this.#emit("info", event, fields);
  }
  warn(event: string, fields: Fields = {}): void {
    this.#emit("warn", event, fields);
  }
  error(event: string, fields: Fields = {}): void {
    this.#emit("error", event, fields);
  }

  #emit(level: Level, event: string, fields: Fields): void {
    if (LEVELS[level] < this.#level) return;
    const all = redact({ ...this.#base, ...fields });
    if (this.#pretty) {
      const line = humanLine(level, event, all, this.#level <= LEVELS.debug);
      if (line !== null) this.#sink.write(line);
    } else {
      this.#sink.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...all }));
    }
  }
}

function redact(fields: Fields): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = value.message;
    else out[key] = value;
  }
  return out;
}

/** Logger for the current process: pretty on a terminal, JSON lines otherwise (LOG_LEVEL, LOG_FORMAT). */
export function createLogger(env: { get(name: string): string | undefined } = Deno.env): Logger {
  const format = env.get("LOG_FORMAT");
  const pretty = format === "pretty" || (format !== "json" && Deno.stderr.isTerminal());
  const level = (env.get("LOG_LEVEL") ?? "info") as Level;
  return new Logger({ pretty, level: level in LEVELS ? level : "info" });
}

/** A logger that drops everything: for unit tests and library defaults. */
export const silentLogger = new Logger({ level: "error", sink: { write: () => {} } });
