/**
 * Issue 17 item 4 (values) through the loader and the API, on both engines: a string is stored
 * and returned exactly, or its line is refused with the reason, never changed in silence.
 *
 * - Lone surrogates (UTF-16 halves without their pair): no engine can store them (UTF-8 has no
 *   form for them; both would write U+FFFD, merging distinct keys), so the line is refused.
 * - NUL characters: MariaDB stores and returns them exactly; node:sqlite reads text only up to
 *   the first NUL, so on SQLite the line is refused.
 */
import assert from "node:assert/strict";
import { engineTest } from "../helpers/engines.ts";
import { setupApi } from "../routes/fixtures.ts";
import { writePartition } from "../warehouse/lake.ts";

const AT = "2026-11-20T10:00:00Z";
const order = (id: string, country: unknown) => ({
  ORDER_ID: id,
  COUNTRY: country,
  AMOUNT: 1,
  CREATED_AT: AT,
});

engineTest(
  "values: lone surrogates are refused lines with a reason; pairs come back exactly",
  async (_t, e) => {
    const api = await setupApi({ env: e.env, loadRows: false });
    try {
      const lines = [
        order("S1", "high \ud800 alone"),
        order("S2", "low \udc00 alone"),
        order("S3", "reversed \udc00\ud800"),
        order("S4", "at the end \udbff"),
        order("K\ud800", "key one"), // two keys that U+FFFD would merge into one row
        order("K\ud801", "key two"),
        order("P1", "a pair 😀 and \u{10FFFF}"),
        order("P2", "\uFFFD is a real character"),
      ];
      await writePartition(api.config, api.orders, "2026-11-20", lines);
      const run = await api.runner.run("load", { trigger: "cli", actor: "test" });
      assert.equal(run.outcome, "ok", run.error ?? "");
      assert.equal(run.counts.rows_inserted, 2, JSON.stringify(run.counts));
      assert.equal(run.counts.rows_rejected, 6);
      const rejected = api.logs.map((l) => JSON.parse(l))
        .filter((l) => l.event === "warehouse.record_rejected");
      assert.deepEqual(rejected.map((r) => r.line), [1, 2, 3, 4, 5, 6]);
      for (const r of rejected) assert.match(r.reason, /lone surrogate/);

      const [status, body] = await api.json(`/feeds/${api.orders}/rows`, {
        token: api.tokens.reader,
      });
      assert.equal(status, 200);
      assert.deepEqual(
        body.rows.map((r: Record<string, unknown>) => [r.ORDER_ID, r.COUNTRY]),
        [["P1", "a pair 😀 and \u{10FFFF}"], ["P2", "\uFFFD is a real character"]],
      );
    } finally {
      await api.close();
    }
  },
);

engineTest(
  "values: NUL characters are stored and returned exactly (MariaDB) or refused (SQLite)",
  async (_t, e) => {
    const api = await setupApi({ env: e.env, loadRows: false });
    try {
      const lines = [
        order("N1", "cut\u0000here"),
        order("N2", "\u0000"),
        order("N3\u0000x", "in the key"),
        order("N4", "ends with NUL\u0000"),
        order("OK", "plain"),
      ];
      await writePartition(api.config, api.orders, "2026-11-20", lines);
      const run = await api.runner.run("load", { trigger: "cli", actor: "test" });
      assert.equal(run.outcome, "ok", run.error ?? "");
      const [status, body] = await api.json(`/feeds/${api.orders}/rows`, {
        token: api.tokens.reader,
      });
      assert.equal(status, 200);
      const got = body.rows.map((r: Record<string, unknown>) => [r.ORDER_ID, r.COUNTRY]);
      if (e.name === "mysql") {
        assert.equal(run.counts.rows_inserted, 5, JSON.stringify(run.counts));
        const want = lines.map((l) => [l.ORDER_ID, l.COUNTRY])
          .sort((a, b) => (a[0] as string) < (b[0] as string) ? -1 : 1);
        assert.deepEqual(got, want);
        // A filter on the exact value finds it.
        const [, one] = await api.json(
          `/feeds/${api.orders}/rows?COUNTRY=${encodeURIComponent("cut\u0000here")}`,
          { token: api.tokens.reader },
        );
        assert.deepEqual(one.rows.map((r: Record<string, unknown>) => r.ORDER_ID), ["N1"]);
      } else {
        assert.equal(run.counts.rows_inserted, 1, JSON.stringify(run.counts));
        assert.equal(run.counts.rows_rejected, 4);
        const rejected = api.logs.map((l) => JSON.parse(l))
          .filter((l) => l.event === "warehouse.record_rejected");
        assert.deepEqual(rejected.map((r) => r.line), [1, 2, 3, 4]);
        for (const r of rejected) assert.match(r.reason, /NUL character/);
        assert.deepEqual(got, [["OK", "plain"]]);
      }
    } finally {
      await api.close();
    }
  },
);
