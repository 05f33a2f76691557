/**
 * A client of the Confluent Schema Registry API (Confluent's own, Apicurio's `/apis/ccompat/v7`,
 * Redpanda's): schemas by id (immutable, so cached for good, one request per id however many
 * records ask at once), subject versions, registration. Basic auth and a private CA come from the
 * settings. Errors are typed (errors.ts): an unknown id (Confluent's error code 40403) is a
 * SchemaNotFoundError; a network failure, a timeout, a server error, refused credentials or a 404
 * without a registry code (a wrong URL) are a RegistryUnavailableError, which the feed waits out
 * rather than quarantining every record. Messages never hold the password.
 */
import {
  IncompatibleSchemaError,
  RegistryUnavailableError,
  SchemaError,
  SchemaNotFoundError,
} from "./errors.ts";
import type { SchemaRegistrySettings } from "../config/registry.ts";

export type SchemaType = "AVRO" | "PROTOBUF" | "JSON";

export interface RegisteredSchema {
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: { name: string; subject: string; version: number }[];
}

export interface SubjectVersion extends RegisteredSchema {
  subject: string;
  version: number;
}

/** Whether the registry answered lately; read by /status. */
export interface RegistryHealthSnapshot {
  up: boolean;
  since: string;
  error?: string;
}

const TIMEOUT_MS = 10_000;
/** Confluent's codes for an unknown subject (40401), version (40402) and schema id (40403). */
const NOT_FOUND_CODES = new Set([40401, 40402, 40403]);
/** Answers about the request itself: incompatible (409) or invalid (422) schema. */
const REFUSALS = new Set([409, 422]);
const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

export class SchemaRegistryClient {
  readonly url: string;
  #auth?: string;
  #http?: Deno.HttpClient;
  #byId = new Map<number, Promise<RegisteredSchema>>();
  #health: RegistryHealthSnapshot = { up: true, since: new Date().toISOString() };

  constructor(settings: SchemaRegistrySettings) {
    this.url = settings.url;
    if (settings.username) {
      this.#auth = `Basic ${btoa(`${settings.username}:${settings.password ?? ""}`)}`;
    }
    if (settings.caCert) this.#http = Deno.createHttpClient({ caCerts: [settings.caCert] });
  }

  /** The schema with this id; a SchemaNotFoundError when the registry has none. */
  schemaById(id: number): Promise<RegisteredSchema> {
    let pending = this.#byId.get(id);
    if (!pending) {
      pending = this.#request("GET", `/schemas/ids/${id}`).then((body) => ({
        id,
        ...schemaFields(body as Record<string, unknown>),
      }));
      this.#byId.set(id, pending);
      // Only answers are kept: a failed lookup is asked again next time.
      pending.catch(() => this.#byId.delete(id));
    }
    return pending;
  }

  /** Version numbers of a subject, oldest first; [] when the subject does not exist. */
  async versions(subject: string): Promise<number[]> {
    try {
      return await this.#request("GET", `/subjects/${enc(subject)}/versions`) as number[];
    } catch (error) {
      if (error instanceof SchemaNotFoundError) return [];
      throw error;
    }
  }

  async version(subject: string, version: number | "latest"): Promise<SubjectVersion> {
    const body = await this.#request("GET", `/subjects/${enc(subject)}/versions/${version}`) as
      & Record<string, unknown>
      & { id: number; version: number };
    return { ...schemaFields(body), id: body.id, subject, version: body.version };
  }

  /** Registers (or finds) `schema` under `subject`; its id. Incompatible: IncompatibleSchemaError. */
  async register(subject: string, schema: string, schemaType: SchemaType): Promise<number> {
    const body = await this.#request("POST", `/subjects/${enc(subject)}/versions`, {
      schema,
      ...(schemaType === "AVRO" ? {} : { schemaType }),
    }) as { id: number };
    return body.id;
  }

  health(): RegistryHealthSnapshot {
    return { ...this.#health };
  }

  close(): void {
    this.#http?.close();
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    const where = `${method} ${this.url}${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { "content-type": CONTENT_TYPE }),
          ...(this.#auth ? { authorization: this.#auth } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        ...(this.#http ? { client: this.#http } : {}),
      });
    } catch (error) {
      throw this.#down(
        new RegistryUnavailableError(
          `Schema Registry not reachable (${where}): ${(error as Error).message}`,
          { cause: error },
        ),
      );
    }
    const text = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const code = (json as { error_code?: number })?.error_code;
    const message = (json as { message?: string })?.message ?? text.slice(0, 200);
    if (response.status === 404 && NOT_FOUND_CODES.has(code ?? 0)) {
      this.#up();
      throw new SchemaNotFoundError(`Schema Registry has no ${describe(path)} (${message})`);
    }
    // Answers that waiting (or an operator) clears: never a reason to quarantine records.
    if (!response.ok && !REFUSALS.has(response.status)) {
      throw this.#down(new RegistryUnavailableError(unavailableMessage(response.status, where)));
    }
    this.#up();
    if (response.ok) return json;
    if (response.status === 409) {
      throw new IncompatibleSchemaError(
        `Schema Registry refused the schema for ${describe(path)} as incompatible: ${message}`,
      );
    }
    throw new SchemaError(`Schema Registry refused the schema (${code}): ${message}`);
  }

  #down(error: RegistryUnavailableError): RegistryUnavailableError {
    if (this.#health.up) this.#health = { up: false, since: new Date().toISOString() };
    this.#health.error = error.message;
    return error;
  }

  #up(): void {
    if (!this.#health.up) this.#health = { up: true, since: new Date().toISOString() };
  }
}

function unavailableMessage(status: number, where: string): string {
  const hint = status === 401 || status === 403
    ? "check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD"
    : status === 404
    ? "no registry error code: is SCHEMA_REGISTRY_URL the Confluent API base " +
      "(for Apicurio …/apis/ccompat/v7)?"
    : "the registry is not ready or overloaded";
  return `Schema Registry answered ${status} to ${where} (${hint})`;
}

function schemaFields(body: Record<string, unknown>) {
  const schemaType = (body.schemaType as SchemaType | undefined) ?? "AVRO";
  if (!["AVRO", "PROTOBUF", "JSON"].includes(schemaType)) {
    throw new SchemaError(`unknown schema type ${JSON.stringify(schemaType)}`);
  }
  return {
    schemaType,
    schema: String(body.schema ?? ""),
    references: (body.references as RegisteredSchema["references"] | undefined) ?? [],
  };
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}

/** "schema id 7" or "subject X" for messages. */
function describe(path: string): string {
  const id = /^\/schemas\/ids\/(\d+)/.exec(path);
  if (id) return `schema id ${id[1]}`;
  const subject = /^\/subjects\/([^/]+)/.exec(path);
  return subject ? `subject ${decodeURIComponent(subject[1])}` : path;
}
