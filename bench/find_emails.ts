/**
 * How long the PII scan's address finder takes on long lines of address-like text with no
 * address (the inputs that make a naive e-mail regex backtrack for ever). Prints seconds per line.
 * tests/contract/record_unit_test.ts checks the answers; this only times them.
 * Run: `deno run bench/find_emails.ts`.
 */
import { findEmails } from "../src/governance/pii_scan.ts";

const LINES: Record<string, string> = {
  "5 MB of a": "a".repeat(5e6),
  "5 MB of a.": "a.".repeat(25e5),
  "5 MB of a- then @": "a-".repeat(25e5) + "@",
  "5 MB of a. with one address": "a.".repeat(25e5) + " jane.doe@example.org",
};

for (const [name, line] of Object.entries(LINES)) {
  const started = performance.now();
  const found = findEmails(line).length;
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${seconds.toFixed(2)} s (${found} found)`);
}
