/** Reading request bodies: JSON or a clear 400. */
import type { Context } from "hono";
import { ValidationError } from "../src/core/errors.ts";

/** Largest body the API reads (records in one POST included). */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) {
    throw new ValidationError(`request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (text.trim() === "") throw new ValidationError("request body is empty; send JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A required string field of a JSON object body. */
export function stringField(body: unknown, field: string): string {
  const value = typeof body === "object" && body !== null
    ? (body as Record<string, unknown>)[field]
    : undefined;
  if (typeof value !== "string" || value === "") {
    throw new ValidationError(`field ${JSON.stringify(field)} is required (a non-empty string)`);
  }
  return value;
}
