/**
 * For the MariaDB part of bench/load.sh: writes lake JSONL files as one TSV that LOAD DATA reads
 * into the same table shape, lineage columns included (`_SOURCE_FILE`, `_SOURCE_LINE`,
 * `_LOADED_AT`): `deno run -A bench/jsonl_to_tsv.ts <out.tsv> <COL,COL,...> <file.jsonl>...`.
 * NULL is \N; tabs, newlines and backslashes are escaped as LOAD DATA expects.
 */
const [out, columnList, ...files] = Deno.args;
if (!out || !columnList || files.length === 0) {
  throw new Error("usage: jsonl_to_tsv.ts <out.tsv> <COL,COL,...> <file.jsonl>...");
}
const columns = columnList.split(",");
const loadedAt = new Date().toISOString();
const escape = (v: unknown) =>
  v === null || v === undefined
    ? "\\N"
    : String(v).replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n");
const encoder = new TextEncoder();
const sink = await Deno.open(out, { write: true, create: true, truncate: true });
let rows = 0;
for (const path of files) {
  const relative = path.split("/").slice(-3).join("/");
  const lines = (await Deno.readTextFile(path)).split("\n");
  const chunk: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const record = JSON.parse(line);
    const values = columns.map((c) =>
      c === "_SOURCE_FILE"
        ? relative
        : c === "_SOURCE_LINE"
        ? i + 1
        : c === "_LOADED_AT"
        ? loadedAt
        : c === "_INFERRED"
        ? 0
        : record[c]
    );
    chunk.push(values.map(escape).join("\t"));
    rows++;
  });
  await sink.write(encoder.encode(chunk.join("\n") + "\n"));
}
sink.close();
console.log(rows);
