/**
 * Tests that need something this machine may lack (kcat, root for a tmpfs): such a test is
 * registered with `ignore:` and says in its name what is missing and how to get it, so a run
 * without it reports "ignored", never a failure and never a silent "ok".
 */
import { delimiter, join } from "node:path";

type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/** Deno.test, ignored with the reason in its name when `missing` says why it cannot run. */
export function testNeeding(missing: string | undefined) {
  return (nameOrTest: string | Deno.TestDefinition, fn?: TestFn): void => {
    const test = typeof nameOrTest === "string" ? { name: nameOrTest, fn: fn! } : nameOrTest;
    Deno.test({
      ...test,
      name: missing ? `${test.name} (ignored: ${missing})` : test.name,
      ignore: missing !== undefined || test.ignore,
    });
  };
}

/** Why `command` cannot be run (not on PATH), with how to get it; undefined when it is there. */
export function missingCommand(command: string, howTo: string): string | undefined {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      if (Deno.statSync(join(dir, command)).isFile) return undefined;
    } catch {
      // not in this folder
    }
  }
  return `${command} is not installed; ${howTo}`;
}

/** kcat, the outside producer several Kafka tests use. */
export const KCAT_MISSING = missingCommand(
  "kcat",
  "run `bash scripts/setup.sh` as root, or `apt-get install kcat`",
);

/** Deno.test for a test that produces with kcat. */
export const testWithKcat = testNeeding(KCAT_MISSING);
