/**
 * The process's stderr as one owner: log lines and at most one live status line (a progress
 * bar). Every write goes through here, so a log line first clears the bar, is printed whole,
 * and the bar is drawn again below it: the two never interleave.
 */
export interface TerminalOptions {
  /** Writes bytes (default: stderr, looping over partial writes). */
  write?: (bytes: Uint8Array) => void;
  /** Columns available to the status line (default: the terminal's width). */
  columns?: () => number;
}

const encoder = new TextEncoder();
const CLEAR = "\r\x1b[2K";

export class Terminal {
  #write: (bytes: Uint8Array) => void;
  #columns: () => number;
  #status = "";

  constructor(options: TerminalOptions = {}) {
    this.#write = options.write ?? writeStderr;
    this.#columns = options.columns ?? stderrColumns;
  }

  /** Prints one whole line; a drawn status line is cleared first and drawn again after it. */
  line(text: string): void {
    this.#emit((this.#status ? CLEAR : "") + text + "\n" + this.#status);
  }

  /** Draws (or redraws) the status line, cut to the terminal's width so it never wraps. */
  status(text: string): void {
    const width = Math.max(this.#columns() - 1, 10);
    this.#status = [...text].length > width ? [...text].slice(0, width - 1).join("") + "…" : text;
    this.#emit(CLEAR + this.#status);
  }

  /** Removes the status line (the cursor is left at the start of an empty line). */
  clearStatus(): void {
    if (!this.#status) return;
    this.#status = "";
    this.#emit(CLEAR);
  }

  #emit(text: string): void {
    this.#write(encoder.encode(text));
  }
}

function writeStderr(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stderr.writeSync(bytes.subarray(offset));
}

/** The terminal's width; 80 when it is unknown (a pty whose size was never set reports 0). */
function stderrColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** The terminal of this process (stderr): shared by the logger and every progress display. */
export const stderrTerminal: Terminal = new Terminal();
