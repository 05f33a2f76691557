/**
 * What can go wrong between a record and its schema, as types the lake and the loader act on:
 * a SchemaError or PayloadError sends the one record to quarantine with its reason; a
 * RegistryUnavailableError makes the feed wait and retry (never quarantine).
 */
import { DataError, UnavailableError } from "../core/errors.ts";

/** The schema cannot be used (invalid, unsupported type, top level not a record, …). */
export class SchemaError extends DataError {}

/** The registry has no schema with this id (or subject/version). */
export class SchemaNotFoundError extends DataError {}

/** The bytes are not a record of their schema (no wire header, truncated, trailing bytes, …). */
export class PayloadError extends DataError {}

/** The registry refused a new schema version as incompatible with the subject's rule. */
export class IncompatibleSchemaError extends DataError {}

/** The registry cannot be reached or answers with a server error: wait and retry. */
export class RegistryUnavailableError extends UnavailableError {}
