/**
 * What `serve` does not load at start: npm packages only some deployments need come in through a
 * dynamic import where they are first used, so a process that never meets them does not carry
 * their code (bench/import_floor.ts measures what each costs). The graph is Deno's own
 * (`deno info --json main.ts`): static edges from main.ts must not reach them, the dynamic one
 * must (so the test notices a package that left the graph altogether).
 */
import assert from "node:assert/strict";

/** npm package name → why it may load late. */
const LAZY: Record<string, string> = {
  protobufjs:
    "Protobuf feeds only: loaded with the first Protobuf schema (src/registry/decoder.ts)",
};

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface Module {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: Dependency[];
}
interface Info {
  roots: string[];
  modules: Module[];
  redirects: Record<string, string>;
}

async function graph(): Promise<Info> {
  const { stdout, success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The npm packages reached from the roots, over static edges only or over all of them. */
function packagesReached(info: Info, withDynamic: boolean): Set<string> {
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (specifier: string) => info.redirects[specifier] ?? specifier;
  const seen = new Set<string>();
  const packages = new Set<string>();
  const stack = info.roots.map(resolve);
  while (stack.length > 0) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    const module = modules.get(specifier);
    if (module?.npmPackage) packages.add(module.npmPackage.replace(/@[^@]+$/, ""));
    if (!module && specifier.startsWith("npm:/")) {
      packages.add(specifier.slice(5).replace(/@[^@/]+(\/.*)?$/, ""));
    }
    for (const dependency of module?.dependencies ?? []) {
      if (dependency.code && (withDynamic || !dependency.isDynamic)) {
        stack.push(resolve(dependency.code.specifier));
      }
    }
  }
  return packages;
}

Deno.test("lazy imports: serve's static graph leaves out the packages only some feeds need", async () => {
  const info = await graph();
  const eager = packagesReached(info, false);
  const all = packagesReached(info, true);
  assert.ok(eager.has("@platformatic/kafka"), `the walk finds npm packages: ${[...eager]}`);
  for (const [name, why] of Object.entries(LAZY)) {
    assert.ok(!eager.has(name), `${name} is imported statically from main.ts; ${why}`);
    assert.ok(all.has(name), `${name} is no longer in main.ts's graph at all`);
  }
});
