/**
 * Shared test fixtures: a real broker (KAFKA_BROKERS, default localhost:9092, started by
 * scripts/kafka.sh), unique topic and group names per test, temporary lakes and warehouses, and
 * the product run as a child process with exactly the flags of `deno task start`.
 */
import { type Config, loadConfig } from "../../src/config/config.ts";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { KafkaClient } from "../../src/kafka/client.ts";
import { connectKafka } from "../../src/kafka/connect.ts";

export const BROKERS = Deno.env.get("KAFKA_BROKERS") ?? "localhost:9092";
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

let counter = 0;
/** A name no other test uses: upper case, so it is also a valid feed name. */
export function uniqueName(prefix: string): string {
  const stamp = `${Date.now().toString(36)}${(counter++).toString(36)}${
    Math.floor(Math.random() * 1e6).toString(36)
  }`;
  return `${prefix}_${stamp}`.toUpperCase();
}

/** A temporary folder, removed by the returned disposer. */
export async function tempDir(prefix = "dl-test-"): Promise<string> {
  return await Deno.makeTempDir({ prefix });
}

export interface TestConfigOptions {
  env?: Record<string, string>;
  /** Feeds to use instead of (not in addition to) settings.ts. */
  feeds?: FeedDeclaration[];
}

/** A Config pointing at a fresh lake and warehouse in a temp folder, with unique group ids. */
export async function testConfig(
  options: TestConfigOptions = {},
): Promise<Config & { root: string }> {
  const root = await tempDir();
  const env = new Map(Object.entries({
    KAFKA_BROKERS: BROKERS,
    KAFKA_GROUP_ID: uniqueName("group").toLowerCase(),
    DATA_LAKE_DIR: `${root}/data_lake`,
    WAREHOUSE_PATH: `${root}/data_warehouse.db`,
    ANONYMIZATION_KEY: "test-anonymization-key",
    ...options.env,
  }));
  const config = loadConfig({ get: (name) => env.get(name) }, { baseFeeds: options.feeds });
  return { ...config, root };
}

/** Writes a FEEDS_FILE declaring `feeds` in `dir` and returns its path. */
export async function writeFeedsFile(dir: string, feeds: FeedDeclaration[]): Promise<string> {
  const path = `${dir}/feeds.json`;
  await Deno.writeTextFile(path, JSON.stringify({ feeds }));
  return path;
}

/**
 * testConfig with `feeds` declared beside settings.ts's in a FEEDS_FILE, as a user adds a feed, so
 * that a child process given envOf(config) reads the same feeds. The file is in `dir`, a fresh
 * temporary folder for the test's other files too; remove both `dir` and `config.root`.
 */
export async function feedsFileConfig(
  ...feeds: FeedDeclaration[]
): Promise<{ config: Config & { root: string }; dir: string }> {
  const dir = await tempDir();
  const config = await testConfig({ env: { FEEDS_FILE: await writeFeedsFile(dir, feeds) } });
  return { config, dir };
}

/** A Kafka client on the test broker; close it in the test's finally block. */
export function testKafka(): KafkaClient {
  return connectKafka({
    kafka: { brokers: BROKERS.split(","), groupId: "unused", clientId: "tests" },
  }, silentLogger);
}

/** The permission and unstable flags of `deno task start` (the same that compile.sh bakes in). */
export function startFlags(): string[] {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${REPO_ROOT}deno.json`));
  return (denoJson.tasks.start as string).split(/\s+/).filter((word) => word.startsWith("--"));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main.ts <args>` as `deno task start` would, with the given environment. */
export async function runMain(args: string[], env: Record<string, string>): Promise<RunResult> {
  const child = spawnMain(args, env);
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Starts `main.ts <args>` in the background (stdout and stderr piped). */
export function spawnMain(
  args: string[],
  env: Record<string, string>,
  stdin: "null" | "piped" = "null",
) {
  const flags = startFlags();
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, `${REPO_ROOT}main.ts`, ...args],
    env: { LOG_FORMAT: "json", NO_COLOR: "1", ...env },
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin,
  }).spawn();
}

/**
 * Runs `main.ts <args>` with debug JSON logs and kills it with SIGKILL (no cleanup runs, as in a
 * crash) as soon as it logs an event `until` accepts. Fails if the process ends first.
 */
export async function killWhenLogged(
  args: string[],
  env: Record<string, string>,
  until: (event: Record<string, unknown>) => boolean,
): Promise<{ stderr: string }> {
  const child = spawnMain(args, { ...env, LOG_LEVEL: "debug" });
  void child.stdout.cancel();
  let stderr = "";
  let killed = false;
  const lines = child.stderr.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    stderr += chunk;
    pending += chunk;
    const complete = pending.split("\n");
    pending = complete.pop() ?? "";
    if (!killed && complete.some((line) => line.startsWith("{") && until(JSON.parse(line)))) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  const status = await child.status;
  if (!killed || status.signal !== "SIGKILL") {
    throw new Error(
      `main.ts ${args.join(" ")} ended (code ${status.code}) before the event:\n${stderr}`,
    );
  }
  return { stderr };
}

/** The environment a child process needs to use `config` (the reverse of loadConfig). */
export function envOf(config: Config): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    KAFKA_GROUP_ID: config.kafka.groupId,
    DATA_LAKE_DIR: config.dataLakeDir,
    WAREHOUSE_PATH: config.warehousePath,
    ...(config.warehouseUrl ? { WAREHOUSE_URL: mysqlUrl(config.warehouseUrl) } : {}),
    ...(config.anonymizationKey ? { ANONYMIZATION_KEY: config.anonymizationKey } : {}),
    ...(config.feedsFile ? { FEEDS_FILE: config.feedsFile } : {}),
  };
}

function mysqlUrl(target: NonNullable<Config["warehouseUrl"]>): string {
  const user = encodeURIComponent(target.user);
  const password = encodeURIComponent(target.password);
  return `mysql://${user}:${password}@${target.host}:${target.port}/${target.database}`;
}

/** Produces string messages with kcat, a client this project did not write. */
export async function produceWithKcat(
  topic: string,
  lines: string[],
  keyed = false,
): Promise<void> {
  const args = ["-b", BROKERS, "-P", "-t", topic, ...(keyed ? ["-K", "\t"] : [])];
  const child = new Deno.Command("kcat", { args, stdin: "piped", stdout: "null", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const out = await child.output();
  if (out.code !== 0) throw new Error(`kcat failed: ${new TextDecoder().decode(out.stderr)}`);
}
