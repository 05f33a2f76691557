/** Where settings come from: the process environment, or a map in tests. */
export interface Env {
  get(name: string): string | undefined;
}
