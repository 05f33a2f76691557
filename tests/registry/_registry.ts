/**
 * What the registry tests need: the registry of scripts/schema-registry.sh (SCHEMA_REGISTRY_TEST_URL,
 * exported by .ci/run), and Confluent's Python client with its Avro serializer (a venv made once
 * by python_env.sh, outside the repository). `registryMissing` says why the tests cannot run.
 */
import { BROKERS, REPO_ROOT } from "../helpers/env.ts";

export const REGISTRY_URL = Deno.env.get("SCHEMA_REGISTRY_TEST_URL") ?? "";

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function pythonPath(): Promise<string | undefined> {
  const out = await new Deno.Command("bash", {
    args: [`${REPO_ROOT}tests/registry/python_env.sh`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) return undefined;
  return new TextDecoder().decode(out.stdout).trim().split("\n").at(-1);
}

const registryProblem = !REGISTRY_URL
  ? "SCHEMA_REGISTRY_TEST_URL is not set (run scripts/schema-registry.sh start; .ci/run does)"
  : !(await answers(REGISTRY_URL))
  ? `no Schema Registry answers at ${REGISTRY_URL} (scripts/schema-registry.sh start)`
  : "";

/** The venv's python, made only when a registry is there to use it. */
export const PYTHON = registryProblem ? undefined : await pythonPath();

/** Why these tests cannot run here, or "" when they can. */
export const registryMissing = registryProblem ||
  (PYTHON
    ? ""
    : "the Python venv with confluent-kafka could not be made (tests/registry/python_env.sh)");

if (registryMissing) console.warn(`tests/registry ignored: ${registryMissing}`);

/** Runs produce.py with `job` (see there); its JSON lines. */
export async function confluentPython(
  job: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const child = new Deno.Command(PYTHON!, {
    args: [`${REPO_ROOT}tests/registry/produce.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ brokers: BROKERS, ...job })));
  await writer.close();
  const out = await child.output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  return lines.map((l) => JSON.parse(l));
}

/** Sets a subject's compatibility rule (Apicurio, like Confluent, accepts it before any version). */
export async function setCompatibility(url: string, subject: string, level: string) {
  const response = await fetch(`${url}/config/${encodeURIComponent(subject)}`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ compatibility: level }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`PUT config ${subject}: ${response.status} ${text}`);
}
