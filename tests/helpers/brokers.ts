/**
 * The extra brokers of the security and failover tests, as .ci/run and scripts/test.sh start
 * them (scripts/kafka/test_services.sh): a SASL_SSL listener (KAFKA_TEST_SASL_*) and a
 * three-node cluster (KAFKA_TEST_CLUSTER_BROKERS). Tests that find them missing are ignored with
 * `ignore:` and the reason below. Outside clients read and write for the tests: kcat (PLAIN and
 * plaintext) and confluent-kafka (scripts/kafka/outside_client.sh; SCRAM).
 */
import { REPO_ROOT } from "./env.ts";

export type Mechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
export const MECHANISMS: Mechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

const env = (name: string) => Deno.env.get(name) || undefined;

/** The SASL_SSL listener, or undefined when the tests were not given one. */
export const SASL = (() => {
  const brokers = env("KAFKA_TEST_SASL_BROKERS");
  const username = env("KAFKA_TEST_SASL_USERNAME");
  const password = env("KAFKA_TEST_SASL_PASSWORD");
  const caFile = env("KAFKA_TEST_SASL_CA_FILE");
  const plaintext = env("KAFKA_TEST_SASL_PLAINTEXT_BROKERS");
  if (!brokers || !username || !password || !caFile || !plaintext) return undefined;
  return { brokers, username, password, caFile, plaintext };
})();

export const SASL_MISSING = SASL ? "" : "needs a SASL_SSL listener: run `deno task test` (which " +
  "starts one), or `KAFKA_SASL_SSL_PORT=9094 scripts/kafka.sh start` and set KAFKA_TEST_SASL_* " +
  "from `scripts/kafka.sh sasl-env` (see scripts/kafka/test_services.sh)";

/** The three-node cluster's bootstrap list, or undefined. */
export const CLUSTER = env("KAFKA_TEST_CLUSTER_BROKERS");
export const CLUSTER_MISSING = CLUSTER ? "" : "needs the three-node cluster: run `deno task " +
  "test` (which starts one), or `scripts/kafka.sh cluster start` and set " +
  "KAFKA_TEST_CLUSTER_BROKERS=$(scripts/kafka.sh cluster brokers)";

/** The product's settings for the SASL_SSL listener with one mechanism. */
export function saslSettings(mechanism: Mechanism): Record<string, string> {
  if (!SASL) throw new Error(SASL_MISSING);
  return {
    KAFKA_BROKERS: SASL.brokers,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: SASL.username,
    KAFKA_SASL_PASSWORD: SASL.password,
    KAFKA_SSL_CA_FILE: SASL.caFile,
  };
}

export interface OutsideRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(`${command} ${args[0]} failed (${out.code}): ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/** kcat's settings for the same connection as `settings` (PLAINTEXT or SASL_SSL with PLAIN). */
function kcatArgs(settings: Record<string, string>): string[] {
  const args = ["-b", settings.KAFKA_BROKERS];
  if (settings.KAFKA_SECURITY_PROTOCOL === "SASL_SSL") {
    if (settings.KAFKA_SASL_MECHANISM !== "PLAIN") {
      throw new Error("Debian's kcat fails SCRAM against Kafka 4.1: use the outside client");
    }
    args.push(
      "-X",
      "security.protocol=SASL_SSL",
      "-X",
      "sasl.mechanisms=PLAIN",
      "-X",
      `sasl.username=${settings.KAFKA_SASL_USERNAME}`,
      "-X",
      `sasl.password=${settings.KAFKA_SASL_PASSWORD}`,
      "-X",
      `ssl.ca.location=${settings.KAFKA_SSL_CA_FILE}`,
    );
  }
  return args;
}

/**
 * Every committed record of a topic (read_committed), read by a client we did not write: kcat
 * for plaintext and PLAIN, confluent-kafka for SCRAM.
 */
export async function readTopic(
  topic: string,
  settings: Record<string, string>,
): Promise<OutsideRecord[]> {
  const scram = settings.KAFKA_SECURITY_PROTOCOL === "SASL_SSL" &&
    settings.KAFKA_SASL_MECHANISM !== "PLAIN";
  if (scram) {
    const out = await run(`${REPO_ROOT}scripts/kafka/outside_client.sh`, [
      "consume",
      topic,
      "--timeout",
      "8",
    ], { env: settings });
    return out.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  }
  const out = await run("kcat", [
    ...kcatArgs(settings),
    "-C",
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-J",
    "-X",
    "isolation.level=read_committed",
  ]);
  return out.split("\n").filter(Boolean).map((line) => {
    const m = JSON.parse(line);
    return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload };
  });
}

interface TopicMetadata {
  topic: string;
  error?: string;
  partitions: { partition: number; leader: number; replicas: unknown[]; isrs: unknown[] }[];
}

/**
 * Metadata of every topic (kcat, plaintext). Never names a topic: a metadata request naming a
 * missing one would create it with the broker's defaults.
 */
export async function topicMetadata(brokers: string): Promise<TopicMetadata[]> {
  return JSON.parse(await run("kcat", ["-b", brokers, "-L", "-J"])).topics;
}

/** The node ids leading each partition of a topic (kcat metadata, plaintext). */
export async function partitionLeaders(
  brokers: string,
  topic: string,
): Promise<{ partition: number; leader: number; replicas: number; isrs: number }[]> {
  const entry = (await topicMetadata(brokers)).find((t) => t.topic === topic);
  if (!entry || entry.error) throw new Error(`no metadata for ${topic}: ${entry?.error}`);
  return entry.partitions.map((p) => ({
    partition: p.partition,
    leader: p.leader,
    replicas: p.replicas.length,
    isrs: p.isrs.length,
  }));
}

/** Runs scripts/kafka.sh with extra environment; returns its stdout. */
export async function kafkaSh(args: string[], extraEnv: Record<string, string> = {}) {
  return await run("bash", [`${REPO_ROOT}scripts/kafka.sh`, ...args], {
    env: { KAFKA_START_TIMEOUT: "180", ...extraEnv },
  });
}

/** Creates a SCRAM user on the SASL broker, or changes its password (credential rotation). */
export async function setScramUser(name: string, password: string): Promise<void> {
  if (!SASL) throw new Error(SASL_MISSING);
  const port = SASL.plaintext.split(":").pop()!;
  await kafkaSh(["scram-user", name, password], { KAFKA_PORT: port });
}

/** `scripts/kafka.sh cluster <args>` on the test cluster (its first node's port is the base). */
export async function clusterSh(...args: string[]): Promise<string> {
  if (!CLUSTER) throw new Error(CLUSTER_MISSING);
  const base = CLUSTER.split(",")[0].split(":").pop()!;
  return await kafkaSh(["cluster", ...args], { KAFKA_CLUSTER_PORT: base });
}

/** A CA of its own that signed nothing the broker uses: clients trusting it must refuse. */
export async function unknownCa(dir: string): Promise<string> {
  const path = `${dir}/unknown-ca.pem`;
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${dir}/unknown-ca.key`,
    "-out",
    path,
    "-days",
    "2",
    "-subj",
    "/CN=a CA the broker never heard of",
  ]);
  return path;
}

/** Every record of one feed in the lake, all days (quarantine and state left out). */
export async function lakeFeedRecords(
  root: string,
  feed: string,
): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  try {
    for await (const day of Deno.readDir(`${root}/${feed}`)) {
      if (!day.isDirectory) continue;
      for await (const file of Deno.readDir(`${root}/${feed}/${day.name}`)) {
        if (!file.name.endsWith(".jsonl")) continue;
        const text = await Deno.readTextFile(`${root}/${feed}/${day.name}/${file.name}`);
        for (const line of text.split("\n")) if (line) records.push(JSON.parse(line));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return records;
}

/** How often each of `ids` occurs among `values` (by TRANSACTION_ID). */
export function countIds(ids: Iterable<string>, values: Record<string, unknown>[]) {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, 0);
  for (const value of values) {
    const id = String(value.TRANSACTION_ID);
    if (counts.has(id)) counts.set(id, counts.get(id)! + 1);
  }
  const missing = [...counts].filter(([, n]) => n === 0).map(([id]) => id);
  const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  return { missing, doubled };
}

/**
 * `name` and `ignore` of a Deno.test that needs the SASL_SSL listener or the cluster: when it
 * is missing the test is ignored, and its name says why and how to start it.
 */
export function needs(what: "sasl" | "cluster", name: string): { name: string; ignore: boolean } {
  const missing = what === "sasl" ? SASL_MISSING : CLUSTER_MISSING;
  return { name: missing ? `${name} [ignored: ${missing}]` : name, ignore: missing !== "" };
}
