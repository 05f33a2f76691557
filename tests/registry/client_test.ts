/**
 * How the registry client sorts the registry's answers (unit lane: a local HTTP server scripted
 * per request stands in for the registry's API): only Confluent's "not found" codes make a record
 * unknown (quarantine); refused credentials, server errors, a wrong URL and a registry that does
 * not answer make the feed wait. Basic auth is sent; the password is in no message.
 */
import assert from "node:assert/strict";
import { SchemaRegistryClient } from "../../src/registry/client.ts";
import { RecordDecoder } from "../../src/registry/decoder.ts";
import { RegistryUnavailableError } from "../../src/registry/errors.ts";

type Answer = { status: number; body?: unknown };
/** What the server saw of a request (the Request object closes with its response). */
type Seen = { path: string; authorization: string | null };

async function withRegistry(
  answer: (request: Request) => Answer,
  fn: (url: string, seen: Seen[]) => Promise<void>,
) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push({
      path: new URL(request.url).pathname,
      authorization: request.headers.get("authorization"),
    });
    const { status, body } = answer(request);
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/apis/ccompat/v7`, seen);
  } finally {
    await server.shutdown();
  }
}

const AVRO = JSON.stringify({ type: "record", name: "R", fields: [{ name: "A", type: "int" }] });
const RECORD = new Uint8Array([0, 0, 0, 0, 7, 2]); // schema id 7, A = 1

Deno.test("registry answers: unknown id quarantines, every outage or misconfiguration waits", async () => {
  const cases: [Answer, "reason" | "wait"][] = [
    [{ status: 404, body: { error_code: 40403, message: "Schema 7 not found" } }, "reason"],
    [{ status: 404, body: { title: "no such path" } }, "wait"],
    [{ status: 401, body: { error_code: 401, message: "Unauthorized" } }, "wait"],
    [{ status: 403 }, "wait"],
    [{ status: 500, body: { error_code: 50001 } }, "wait"],
    [{ status: 503 }, "wait"],
    [{ status: 429 }, "wait"],
  ];
  for (const [answer, expected] of cases) {
    await withRegistry(() => answer, async (url) => {
      const client = new SchemaRegistryClient({ url, username: "u", password: "pw-secret" });
      const decoder = new RecordDecoder(client);
      try {
        if (expected === "reason") {
          const decoded = await decoder.decode("avro", RECORD);
          assert.ok("reason" in decoded && /unknown schema id 7/.test(decoded.reason));
          assert.equal(client.health().up, true);
        } else {
          await assert.rejects(
            () => decoder.decode("avro", RECORD),
            (e) => e instanceof RegistryUnavailableError && !e.message.includes("pw-secret"),
            `HTTP ${answer.status}`,
          );
          assert.equal(client.health().up, false);
        }
      } finally {
        client.close();
      }
    });
  }
});

Deno.test("registry client: basic auth sent, schemas cached per id, recovery shows up", async () => {
  let fail = true;
  await withRegistry(
    () => (fail ? { status: 503 } : { status: 200, body: { schema: AVRO } }),
    async (url, seen) => {
      const client = new SchemaRegistryClient({ url, username: "reader", password: "pw" });
      const decoder = new RecordDecoder(client);
      try {
        await assert.rejects(() => decoder.decode("avro", RECORD), RegistryUnavailableError);
        fail = false;
        assert.deepEqual(await decoder.decode("avro", RECORD), { value: { A: 1 }, schemaId: 7 });
        assert.deepEqual(await decoder.decode("avro", RECORD), { value: { A: 1 }, schemaId: 7 });
        assert.equal(seen.length, 2, "one request for the outage, one for the schema, then cache");
        assert.equal(seen[1].authorization, `Basic ${btoa("reader:pw")}`);
        assert.equal(seen[1].path, "/apis/ccompat/v7/schemas/ids/7");
        assert.equal(client.health().up, true);
        const wrongType = await decoder.decode("protobuf", RECORD);
        assert.ok(
          "reason" in wrongType &&
            /AVRO schema; the feed's format is protobuf/.test(wrongType.reason),
        );
      } finally {
        client.close();
      }
    },
  );
});

Deno.test("registry client: nothing listening is an outage, not a quarantine", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = new SchemaRegistryClient({ url: `http://127.0.0.1:${port}` });
  try {
    await assert.rejects(
      () => new RecordDecoder(client).decode("avro", RECORD),
      RegistryUnavailableError,
    );
  } finally {
    client.close();
  }
});
