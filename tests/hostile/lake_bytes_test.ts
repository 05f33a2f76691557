/**
 * Issue 17 item 4 at the loader: a lake line whose bytes are not UTF-8 (a stray byte, an encoded
 * lone surrogate, a truncated character) or that starts with a byte-order mark is a rejected
 * line with its reason, never loaded with U+FFFD in place of what was there, on both engines.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/log.ts";
import { partitionPath } from "../../src/lake/layout.ts";
import { runLoad } from "../../src/warehouse/loader.ts";
import { openWarehouseFromConfig } from "../../src/warehouse/open.ts";
import { engineTest } from "../helpers/engines.ts";
import { tempDir, testConfig, uniqueName } from "../helpers/env.ts";
import { tableOf } from "../warehouse/lake.ts";
import { feedsFile } from "./_helpers.ts";

const encoder = new TextEncoder();

engineTest(
  "lake bytes: lines that are not UTF-8, or start with a BOM, are rejected lines",
  async (_t, e) => {
    const name = uniqueName("HB");
    const dir = await tempDir("hostile-bytes-");
    const file = await feedsFile(dir, [
      { name, kind: "stream", primaryKey: ["ID"], columns: { ID: "TEXT", V: "TEXT" } },
    ]);
    const config = await testConfig({ env: { ...e.env, FEEDS_FILE: file } });
    const w = await openWarehouseFromConfig(config);
    try {
      const line = (id: string, bytes: number[]) => [
        ...encoder.encode(`{"ID":"${id}","V":"a`),
        ...bytes,
        ...encoder.encode(`b"}\n`),
      ];
      const bytes = [
        ...line("OK1", []),
        ...line("FF", [0xff]), // a byte UTF-8 never uses
        ...line("SUR", [0xed, 0xa0, 0x80]), // U+D800 encoded as if it were a character
        ...line("CUT", [0xe2, 0x82]), // the start of € without its last byte
        ...[0xef, 0xbb, 0xbf], // a byte-order mark before a line
        ...encoder.encode(`{"ID":"BOM","V":"x"}\n`),
        ...line("OK2", [0xe2, 0x82, 0xac]), // € itself
      ];
      const path = partitionPath(config.dataLakeDir, name, "2026-11-20");
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, new Uint8Array(bytes));
      const report = tableOf(
        await runLoad({ config, warehouse: w, log: silentLogger, feeds: [name] }),
        name,
      );
      assert.deepEqual(report.rejections.map((r) => r.line), [2, 3, 4, 5]);
      for (const r of report.rejections.slice(0, 3)) assert.match(r.reason, /not valid UTF-8/);
      assert.match(report.rejections[3].reason, /not valid JSON|byte-order mark/);
      const rows = await w.all(`SELECT "ID", "V" FROM "${name}" ORDER BY "ID"`);
      assert.deepEqual(rows.map((r) => [r.ID, r.V]), [["OK1", "ab"], ["OK2", "a€b"]]);
    } finally {
      await w.close();
      await Promise.all([dir, config.root].map((d) => Deno.remove(d, { recursive: true })));
    }
  },
);
