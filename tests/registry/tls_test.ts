/**
 * SCHEMA_REGISTRY_CA_FILE: an https registry whose certificate a private CA signed (made here
 * with openssl) is trusted through the setting, with basic auth; without the CA the registry is
 * not trusted and the feed waits (an outage, not a quarantine). A local TLS server scripted like
 * the registry's API stands in for it (unit lane, no broker).
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { SchemaRegistryClient } from "../../src/registry/client.ts";
import { RecordDecoder } from "../../src/registry/decoder.ts";
import { RegistryUnavailableError } from "../../src/registry/errors.ts";

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A CA, and a certificate for 127.0.0.1 signed by it. */
async function makeCertificates(dir: string) {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ], dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.pem",
  ], dir);
}

const AVRO = JSON.stringify({ type: "record", name: "R", fields: [{ name: "A", type: "int" }] });
const RECORD = new Uint8Array([0, 0, 0, 0, 3, 4]); // schema id 3, A = 2

Deno.test("an https registry signed by a private CA is trusted through SCHEMA_REGISTRY_CA_FILE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "registry-tls-" });
  const auth: (string | null)[] = [];
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    await makeCertificates(dir);
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir}/server.pem`),
      key: await Deno.readTextFile(`${dir}/server.key`),
      onListen() {},
    }, (request) => {
      auth.push(request.headers.get("authorization"));
      return new Response(JSON.stringify({ schema: AVRO }));
    });
    const url = `https://127.0.0.1:${server.addr.port}`;
    const env = new Map(Object.entries({
      SCHEMA_REGISTRY_URL: url,
      SCHEMA_REGISTRY_USERNAME: "reader",
      SCHEMA_REGISTRY_PASSWORD: "pw",
      SCHEMA_REGISTRY_CA_FILE: `${dir}/ca.pem`,
    }));
    const config = loadConfig({ get: (name) => env.get(name) }, { baseFeeds: [] });

    const trusted = new SchemaRegistryClient(config.schemaRegistry!);
    try {
      const decoded = await new RecordDecoder(trusted).decode("avro", RECORD);
      assert.deepEqual(decoded, { value: { A: 2 }, schemaId: 3 });
      assert.equal(auth.at(-1), `Basic ${btoa("reader:pw")}`);
    } finally {
      trusted.close();
    }

    const untrusted = new SchemaRegistryClient({ url });
    try {
      await assert.rejects(
        () => new RecordDecoder(untrusted).decode("avro", RECORD),
        RegistryUnavailableError,
      );
    } finally {
      untrusted.close();
    }
  } finally {
    await server?.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
