/**
 * The code follows the data: every import in main.ts, app/, src/ and routes/ points down the
 * stack below, and no module reaches itself again through its imports. A folder may import its
 * own files and any folder of a lower tier; folders of one tier know nothing of each other.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), "..", ".."));

/** Lowest first. A module is placed by its folder: src/<folder>, routes, app, or main.ts. */
export const TIERS: readonly (readonly string[])[] = [
  ["src/core"],
  ["src/contract"],
  ["src/config"],
  ["src/metrics"],
  ["src/kafka"],
  ["src/registry"],
  ["src/processor"],
  ["src/producer", "src/lake"],
  ["src/warehouse"],
  ["src/governance"],
  ["src/scheduler"],
  ["src/service"],
  ["src/cli", "routes"],
  ["app"],
  ["main.ts"],
];

export function layerOf(path: string): string {
  if (path === "main.ts") return path;
  const [top, sub] = path.split("/");
  return top === "src" ? `${top}/${sub}` : top;
}

function tierOf(layer: string): number {
  const tier = TIERS.findIndex((names) => names.includes(layer));
  assert.notEqual(tier, -1, `${layer} is in no tier: place it in TIERS (${import.meta.url})`);
  return tier;
}

/** Every relative specifier of `import`, `export … from` and `import("…")`, comments left out. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specifiers = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((match) => match[1]);
  return specifiers.filter((specifier) => specifier.startsWith("."));
}

function sourceFiles(): string[] {
  const files = ["main.ts"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (/\.tsx?$/.test(entry.name)) files.push(path);
    }
  };
  for (const dir of ["app", "src", "routes"]) walk(dir);
  return files.sort();
}

/** from → its imports, as paths relative to the repository root. */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const source = Deno.readTextFileSync(join(ROOT, file));
    graph.set(
      file,
      importsOf(source).map((spec) => relative(ROOT, join(ROOT, dirname(file), spec))),
    );
  }
  return graph;
}

/** Edges that point up the stack, or sideways into another folder of the same tier. */
export function upwardEdges(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from), b = layerOf(to);
      if (a !== b && tierOf(b) >= tierOf(a)) bad.push(`${from} → ${to} (${a} may not import ${b})`);
    }
  }
  return bad;
}

/** Each import cycle once, as the list of modules around it (depth-first search). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

Deno.test("imports: every import points down the stack (core → … → routes → app → main.ts)", () => {
  const bad = upwardEdges(importGraph());
  assert.deepEqual(bad, [], `imports that point up the stack:\n  ${bad.join("\n  ")}`);
});

Deno.test("imports: no module imports itself again through others (no cycles, types included)", () => {
  const found = cycles(importGraph()).map((cycle) => cycle.join(" → "));
  assert.deepEqual(found, [], `import cycles:\n  ${found.join("\n  ")}`);
});

Deno.test("imports: the checker sees import, export-from, type-only and dynamic imports", () => {
  const source = [
    `import { a } from "./a.ts";`,
    `import type {\n  B,\n} from "../b.ts";`,
    `export { c } from "./c.ts";`,
    `export type { D } from "./d.ts";`,
    `import "./e.ts";`,
    `const f = await import("./f.ts");`,
    `// import { g } from "./g.ts";`,
    `/* import { h } from "./h.ts"; */`,
    `import { parseArgs } from "node:util";`,
  ].join("\n");
  assert.deepEqual(importsOf(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
  ]);
  const graph = new Map([
    ["src/core/a.ts", ["src/kafka/b.ts"]],
    ["src/kafka/b.ts", ["src/core/a.ts"]],
    ["src/lake/c.ts", ["src/producer/d.ts"]],
    ["src/producer/d.ts", []],
  ]);
  assert.equal(upwardEdges(graph).length, 2, "core → kafka and lake → producer (same tier)");
  assert.deepEqual(cycles(graph), [["src/core/a.ts", "src/kafka/b.ts", "src/core/a.ts"]]);
});
