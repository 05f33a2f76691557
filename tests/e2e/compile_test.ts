/**
 * compile.sh without the network: DENORT_BIN stands in for Deno's runtime (any executable works
 * as the base; the program and its settings are appended to it), so the test can read back what
 * the binary would run with and compare it with the `start` task.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, startFlags, tempDir } from "../helpers/env.ts";

async function compile(env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: [`${REPO_ROOT}compile.sh`],
    env,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("compile.sh bakes exactly the start task's permissions and --unstable-cron into the binary", async () => {
  const dir = await tempDir("compile-");
  try {
    const denort = `${dir}/denort`;
    await Deno.copyFile("/bin/true", denort);
    await Deno.chmod(denort, 0o755);
    const output = `${dir}/dist/data-platform`;
    const { code, text } = await compile({ DENORT_BIN: denort, OUTPUT: output, NO_COLOR: "1" });
    assert.equal(code, 0, text);
    assert.match(text, new RegExp(`compile.sh: built ${output}`));

    const flags = startFlags();
    assert.ok(flags.includes("--unstable-cron"));
    assert.match(text, new RegExp(`flags: ${flags.join(" ").replaceAll("-", "\\-")}`));

    const binary = new TextDecoder("latin1").decode(await Deno.readFile(output));
    const permissions = JSON.parse(/"permissions":(\{[^}]*\})/.exec(binary)![1]);
    for (const kind of ["net", "env", "read", "write", "sys", "run", "ffi"]) {
      const flag = flags.find((f) => f === `--allow-${kind}` || f.startsWith(`--allow-${kind}=`));
      const expected = flag === undefined
        ? null
        : flag.includes("=")
        ? flag.split("=")[1].split(",")
        : [];
      assert.deepEqual(permissions[`allow_${kind}`], expected, `allow_${kind}`);
    }
    const unstable = JSON.parse(/"unstable_config":(\{[^}]*\})/.exec(binary)![1]);
    assert.ok(unstable.features.includes("cron"));
    assert.ok(binary.includes("export function createApp("), "the API code is embedded");
    // Loaded by URL, not imported: embedded only by compile.sh's --include.
    assert.ok(binary.includes("serve(globalThis"), "the load's reader thread is embedded");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile.sh fails with one clear line when DENORT_BIN is not usable", async () => {
  const { code, text } = await compile({ DENORT_BIN: "/nonexistent/denort", NO_COLOR: "1" });
  assert.notEqual(code, 0);
  assert.match(
    text,
    /compile\.sh: error: DENORT_BIN=\/nonexistent\/denort is not an executable file/,
  );
});
