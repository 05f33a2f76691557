/**
 * The feed `format` and the SCHEMA_REGISTRY_* / RAW_FORMAT / OUTPUT_FORMAT settings: validated
 * with the rest of the config, before anything connects; the password never prints.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import type { FeedDeclaration } from "../../src/config/feeds.ts";
import { STATUSES } from "../../src/config/settings.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { PROCESSOR_FEEDS } from "../../src/processor/topics.ts";
import { statusFeedName } from "../../src/processor/transform.ts";

const AVRO_FEED: FeedDeclaration = {
  name: "PAYMENTS",
  kind: "stream",
  primaryKey: ["ID"],
  format: "avro",
};

function load(
  vars: Record<string, string>,
  feeds: unknown[] = [AVRO_FEED],
  files: Record<string, string> = {},
) {
  return loadConfig({ get: (name) => vars[name] }, {
    baseFeeds: feeds as FeedDeclaration[],
    readTextFile: (path) => {
      if (path in files) return files[path];
      throw new Error(`ENOENT: ${path}`);
    },
  });
}

Deno.test("a feed in a registry format without SCHEMA_REGISTRY_URL is refused, naming it", () => {
  for (const format of ["avro", "protobuf", "json-schema"]) {
    assert.throws(
      () => load({}, [{ ...AVRO_FEED, format }]),
      (e) =>
        e instanceof ConfigError &&
        /feed PAYMENTS has format .* SCHEMA_REGISTRY_URL/.test(e.message),
    );
  }
  assert.throws(() => load({ RAW_FORMAT: "avro" }, []), /needs SCHEMA_REGISTRY_URL/);
});

Deno.test("feed formats: json is the default, unknown formats are refused", () => {
  const json = load({}, [{ ...AVRO_FEED, format: undefined }]);
  assert.equal(json.feeds[0].format, undefined);
  assert.equal(load({}, [{ ...AVRO_FEED, format: "json" }]).feeds[0].format, undefined);
  for (const format of ["AVRO", "xml", 3, null]) {
    assert.throws(() => load({}, [{ ...AVRO_FEED, format }]), /format must be one of/);
  }
  const config = load({ SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081/" });
  assert.equal(config.feeds[0].format, "avro");
  assert.equal(config.schemaRegistry?.url, "http://127.0.0.1:8081");
  assert.equal(config.rawFormat, "json");
  assert.equal(config.outputFormat, "json");
});

Deno.test("registry settings: bad URLs, credentials in the URL, orphan settings are refused", () => {
  const bad: Record<string, string>[] = [
    { SCHEMA_REGISTRY_URL: "not a url" },
    { SCHEMA_REGISTRY_URL: "ftp://host" },
    { SCHEMA_REGISTRY_URL: "http://user:pw@host:8081" },
    { SCHEMA_REGISTRY_URL: "http://host:8081?x=1" },
    { SCHEMA_REGISTRY_USERNAME: "u" },
    { SCHEMA_REGISTRY_URL: "http://host", SCHEMA_REGISTRY_PASSWORD: "secret-pw" },
    { SCHEMA_REGISTRY_URL: "http://host", SCHEMA_REGISTRY_CA_FILE: "/ca.pem" },
    { SCHEMA_REGISTRY_URL: "https://host", SCHEMA_REGISTRY_CA_FILE: "/missing.pem" },
    { SCHEMA_REGISTRY_URL: "https://host", SCHEMA_REGISTRY_CA_FILE: "/empty.pem" },
    { SCHEMA_REGISTRY_URL: "http://host", RAW_FORMAT: "protobuf" },
  ];
  for (const vars of bad) {
    assert.throws(
      () => load(vars, [], { "/empty.pem": "nothing" }),
      (e) =>
        e instanceof ConfigError && !e.message.includes("secret-pw") && !e.message.includes(":pw@"),
      JSON.stringify(vars),
    );
  }
});

Deno.test("the registry password and CA are kept but never enumerated (logs, /status)", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const config = load(
    {
      SCHEMA_REGISTRY_URL: "https://registry.example:8081",
      SCHEMA_REGISTRY_USERNAME: "reader",
      SCHEMA_REGISTRY_PASSWORD: "s3cret",
      SCHEMA_REGISTRY_CA_FILE: "/ca.pem",
      RAW_FORMAT: "AVRO",
    },
    [AVRO_FEED],
    { "/ca.pem": pem },
  );
  const registry = config.schemaRegistry!;
  assert.equal(registry.password, "s3cret");
  assert.equal(registry.caCert, pem);
  assert.ok(!JSON.stringify(config).includes("s3cret"));
  assert.ok(!JSON.stringify(config).includes("MIIB"));
  assert.equal(config.rawFormat, "avro");
  assert.equal(config.outputFormat, "json");
});

Deno.test("OUTPUT_FORMAT=avro makes every processor feed Avro for the lake, and no other", () => {
  const url = { SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081" };
  const json = loadConfig({ get: (name) => ({ ...url } as Record<string, string>)[name] });
  const avro = loadConfig({
    get: (name) => ({ ...url, OUTPUT_FORMAT: "avro" } as Record<string, string>)[name],
  });
  assert.equal(avro.outputFormat, "avro");
  const formats = Object.fromEntries(avro.feeds.map((f) => [f.name, f.format ?? "json"]));
  const expected = Object.fromEntries(
    [...Object.values(PROCESSOR_FEEDS), ...STATUSES.map(statusFeedName)].map((name) => [
      name,
      name === "CURRENCY_RATES" ? "json" : "avro",
    ]),
  );
  assert.deepEqual(formats, expected);
  assert.ok(json.feeds.every((f) => (f.format ?? "json") === "json"));
  // The same feeds otherwise, in the same (dependency) order.
  assert.deepEqual(
    avro.feeds.map((f) => ({ ...f, format: undefined })),
    json.feeds.map((f) => ({ ...f, format: undefined })),
  );
  // A feed the processor does not write keeps its own format.
  const other = load({ ...url, OUTPUT_FORMAT: "avro" }, [{ ...AVRO_FEED, format: "protobuf" }]);
  assert.equal(other.feeds[0].format, "protobuf");
  assert.throws(
    () => load({ OUTPUT_FORMAT: "avro" }, []),
    /OUTPUT_FORMAT=avro needs SCHEMA_REGISTRY_URL/,
  );
});

Deno.test("OUTPUT_FORMAT=avro refuses a processor feed declared in another registry format", () => {
  for (const [name, format] of [["TRANSACTIONS_SECURE", "protobuf"], ["USERS", "json-schema"]]) {
    assert.throws(
      () =>
        load({ SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081", OUTPUT_FORMAT: "avro" }, [{
          name,
          kind: "stream",
          primaryKey: ["ID"],
          format,
        }]),
      (e) =>
        e instanceof ConfigError &&
        new RegExp(`feed ${name} has format ${format}, but the processor writes it as Avro`)
          .test(e.message),
    );
  }
});
