/**
 * The import floor: what loading a module costs a fresh Deno process before any work, with the
 * start task's V8 flags. Each specifier runs in a process of its own and prints its RSS before
 * and after the import, and V8's heap (committed, and live after a full collection), in MiB:
 *
 *   deno run -A bench/import_floor.ts [SPECIFIER ...]
 *
 * Without arguments: the npm packages `serve` loads and serve's own module graph
 * (app/commands.ts). A bench tool only: it imports, it does not connect.
 */
const DEFAULTS = [
  "npm:uplot@1.6.32", // any npm package: the cost of Deno's Node compatibility layer alone
  "@platformatic/kafka",
  "hono",
  "avsc",
  "protobufjs",
  "mysql2/promise",
  "./app/commands.ts",
];

if (Deno.args[0] === "--child") {
  const mib = (n: number) => (n / 1048576).toFixed(1);
  const before = Deno.memoryUsage();
  await import(Deno.args[1]);
  const after = Deno.memoryUsage();
  (globalThis as unknown as { gc(): void }).gc();
  const live = Deno.memoryUsage().heapUsed;
  console.log(
    [Deno.args[1], mib(before.rss), mib(after.rss), mib(after.rss - before.rss)]
      .concat([mib(after.heapTotal), mib(live)]).join("\t"),
  );
} else {
  const deno = JSON.parse(await Deno.readTextFile("deno.json"));
  const task: string = deno.tasks.start;
  const v8 = task.split(/\s+/).find((word) => word.startsWith("--v8-flags=")) ?? "--v8-flags=";
  const flags = `${v8}${v8.endsWith("=") ? "" : ","}--expose-gc`;
  console.log(`V8 flags: ${flags.slice("--v8-flags=".length)}`);
  console.log("specifier\trss_before\trss_after\trss_added\theap_committed\theap_live_after_gc");
  const self = new URL(import.meta.url).pathname;
  for (const specifier of Deno.args.length > 0 ? Deno.args : DEFAULTS) {
    const resolved = specifier.startsWith("./")
      ? new URL(specifier, `file://${Deno.cwd()}/`).href
      : specifier;
    const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", flags, self, "--child", resolved],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(success ? stdout : stderr).trim();
    console.log(success ? text.replace(resolved, specifier) : `${specifier}\tfailed: ${text}`);
  }
}
