import assert from "node:assert/strict";
import { prefixHash, readLines } from "../../src/warehouse/lines.ts";
import { tempDir } from "../helpers/env.ts";

const encoder = new TextEncoder();

Deno.test("readLines: byte offsets stay exact across chunks with multi-byte text; a partial line waits", async () => {
  const dir = await tempDir();
  const path = `${dir}/f.jsonl`;
  // ~200 KB of lines holding 2-, 3- and 4-byte characters, so chunk edges fall inside them.
  const lines = Array.from(
    { length: 3000 },
    (_, i) => JSON.stringify({ i, city: "Zürich – 東京 🚀".repeat(1 + (i % 5)) }),
  );
  await Deno.writeTextFile(path, lines.join("\n") + "\n" + '{"partial":');

  const all = (await Array.fromAsync(readLines(path, 0, 1))).flat();
  assert.deepEqual(all.map((l) => l.text), lines);
  let end = 0;
  all.forEach((line, i) => {
    end += encoder.encode(lines[i]).length + 1;
    assert.equal(line.end, end, `end of line ${i + 1}`);
    assert.equal(line.number, i + 1);
  });

  const from = all[1999];
  const rest = (await Array.fromAsync(readLines(path, from.end, 2001))).flat();
  assert.deepEqual(rest.map((l) => l.text), lines.slice(2000));
  assert.equal(rest[0].number, 2001);
  assert.equal(rest.at(-1)!.end, end);

  const hash = await prefixHash(path, end);
  assert.equal(await prefixHash(path, end), hash, "stable");
  await Deno.writeTextFile(path, "x", { append: true });
  assert.equal(await prefixHash(path, end), hash, "appending does not change the read prefix");
  const bytes = await Deno.readFile(path);
  bytes[10] = bytes[10] === 48 ? 49 : 48;
  await Deno.writeFile(path, bytes);
  assert.notEqual(await prefixHash(path, end), hash, "a rewritten head changes it");
});
