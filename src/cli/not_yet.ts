import { DomainError } from "../core/errors.ts";

/** Placeholder for a command whose issue is still open. */
export function notYet(name: string): never {
  throw new DomainError(`${name} is not available in this version yet`);
}
