/**
 * What the registry tests need: the registry of scripts/schema-registry.sh (SCHEMA_REGISTRY_TEST_URL,
 * exported by .ci/run), and Confluent's Python client with its Avro serializer (a venv made once
 * by python_env.sh, outside the repository). `registryMissing` says why the tests cannot run.
 */
import type { Config } from "../../src/config/config.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { engineTest } from "../helpers/engines.ts";
import { BROKERS, REPO_ROOT, testConfig, testKafka, uniqueName } from "../helpers/env.ts";

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

/**
 * Deno.test for a test that needs the registry: ignored when it is missing (said once above). The
 * sanitizers are off: a consumer waiting for the registry may leave a timer behind a stop.
 */
export function registryTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore: registryMissing !== "",
    sanitizeOps: false,
    sanitizeResources: false,
    fn,
  });
}

/** engineTest (on SQLite and MariaDB) for a test that needs the registry; ignored without it. */
export function registryEngineTest(name: string, fn: Parameters<typeof engineTest>[1]): void {
  if (registryMissing) {
    Deno.test({ name: `${name} (ignored: ${registryMissing})`, ignore: true, fn() {} });
  } else {
    engineTest(name, fn, { sanitizeOps: false, sanitizeResources: false });
  }
}

/** A feed of one test, its config and its topic; `close` closes the client, removes the lake. */
export interface RegistryFeed {
  feed: string;
  config: Config & { root: string };
  kafka: KafkaClient;
  close(): Promise<void>;
}

/**
 * The set-up most of these tests share: a stream feed of their own (`<PREFIX>_<unique>`, primary
 * key ID) in a registry format, the only feed of a config whose SCHEMA_REGISTRY_URL is the test
 * registry (`env` adds settings or replaces it), and its topic with one partition.
 */
export async function registryFeed(
  prefix: string,
  format: "avro" | "protobuf" | "json-schema",
  options: { timeField?: string; env?: Record<string, string> } = {},
): Promise<RegistryFeed> {
  const feed = uniqueName(prefix);
  const config = await testConfig({
    env: { SCHEMA_REGISTRY_URL: REGISTRY_URL, ...options.env },
    feeds: [{
      name: feed,
      kind: "stream",
      primaryKey: ["ID"],
      format,
      ...(options.timeField ? { timeField: options.timeField } : {}),
    }],
  });
  const kafka = testKafka();
  const close = async () => {
    await kafka.close();
    await Deno.remove(config.root, { recursive: true });
  };
  try {
    await kafka.ensureTopics([{ topic: feed, partitions: 1 }]);
  } catch (error) {
    await close();
    throw error;
  }
  return { feed, config, kafka, close };
}

/** How long produce.py may run: its reads stop after 60 s; this bounds anything else. */
const PYTHON_LIMIT_MS = 180_000;

/** Runs produce.py with `job` (see there); its JSON lines. */
export async function confluentPython(
  job: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const child = new Deno.Command(PYTHON!, {
    args: [`${REPO_ROOT}tests/registry/produce.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(PYTHON_LIMIT_MS),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ brokers: BROKERS, ...job })));
  await writer.close();
  const out = await child.output();
  if (out.signal) {
    const stderr = new TextDecoder().decode(out.stderr).slice(-2000);
    throw new Error(`produce.py stopped by ${out.signal} after ${PYTHON_LIMIT_MS} ms: ${stderr}`);
  }
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
