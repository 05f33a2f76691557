/**
 * `--once` modes with no broker at all: a bounded wait (ONCE_OUTAGE_SECONDS, shortened here from
 * its 30 s), then one clear line and exit 1.
 */
import assert from "node:assert/strict";
import { runMain, tempDir } from "../helpers/env.ts";

// Nothing listens here (the outage tests' brokers use 19092 and 19192, the soak 19292).
const NOWHERE = "127.0.0.1:19391";

Deno.test("consume --once and process --once give up on an unreachable Kafka with one line", async () => {
  const root = await tempDir("e2e-once-");
  const env = {
    KAFKA_BROKERS: NOWHERE,
    DATA_LAKE_DIR: `${root}/lake`,
    WAREHOUSE_PATH: `${root}/warehouse.db`,
    ANONYMIZATION_KEY: "test-anonymization-key",
    ONCE_OUTAGE_SECONDS: "5",
  };
  try {
    const results = await Promise.all([
      runMain(["consume", "--once"], env),
      runMain(["process", "--once"], env),
    ]);
    for (const result of results) {
      const errors = result.stderr.split("\n").filter((line) => line.startsWith("error: "));
      assert.notEqual(result.code, 0);
      assert.deepEqual(errors.length, 1, result.stderr);
      assert.match(
        errors[0],
        /^error: Kafka is not reachable at 127\.0\.0\.1:19391: .*ECONNREFUSED/,
      );
      // One warning when the wait starts, not one per retry.
      const warnings = result.stderr.split("\n").filter((l) => l.includes("kafka.unavailable"));
      assert.ok(warnings.length <= 2, result.stderr);
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
