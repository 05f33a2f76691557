/**
 * Reading request bodies: bounded in bytes while they are read (`limitBodies`, 413 beyond), then
 * strict UTF-8 (400 on invalid bytes or a byte-order mark, as for Kafka values) and JSON or a
 * clear 400.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { decodeText } from "../src/contract/values.ts";
import { DomainError, ValidationError } from "../src/core/errors.ts";

/** Largest body the API reads, in bytes (records in one POST included). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A body larger than MAX_BODY_BYTES: 413, whether it said so (Content-Length) or not. */
export class PayloadTooLargeError extends DomainError {
  override readonly status = 413;
}

const TOO_LARGE = `request body is larger than ${MAX_BODY_BYTES} bytes`;

/**
 * Refuses a declared Content-Length over the limit before reading anything, and stops reading
 * a chunked body at the limit: memory stays flat however large or many the bodies are.
 */
export function limitBodies(): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: TOO_LARGE }, 413),
  });
}

export async function jsonBody(c: Context): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await c.req.arrayBuffer());
  } catch (error) {
    // The limit's stream errors with BodyLimitError once the count passes MAX_BODY_BYTES.
    if ((error as Error)?.name === "BodyLimitError") throw new PayloadTooLargeError(TOO_LARGE);
    throw new ValidationError(`request body cannot be read: ${(error as Error).message}`);
  }
  if (bytes.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(TOO_LARGE);
  const decoded = decodeText(bytes);
  if ("reason" in decoded) {
    throw new ValidationError(`request body: ${decoded.reason.replace(/^value /, "")}`);
  }
  const text = decoded.text;
  if (text.trim() === "") throw new ValidationError("request body is empty; send JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A required string field of a JSON object body (own properties only). */
export function stringField(body: unknown, field: string): string {
  const value = typeof body === "object" && body !== null && Object.hasOwn(body, field)
    ? (body as Record<string, unknown>)[field]
    : undefined;
  if (typeof value !== "string" || value === "") {
    throw new ValidationError(`field ${JSON.stringify(field)} is required (a non-empty string)`);
  }
  return value;
}
