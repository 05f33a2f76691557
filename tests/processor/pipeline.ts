/**
 * The processor's three tables in one object, as one instance alone computes them: stage one's
 * per-user tables and window deltas, then stage two's windows (src/processor/windows.ts). Lets
 * unit tests check the arithmetic without Kafka.
 */
import { toMicros, typeOrUnknown, type UsdTransaction } from "../../src/processor/transform.ts";
import { UserTables } from "../../src/processor/user_tables.ts";
import { WindowDeltas, type WindowsOptions, WindowTables } from "../../src/processor/windows.ts";

export class Aggregates {
  readonly users = new UserTables();
  readonly deltas = new WindowDeltas();
  readonly windows: WindowTables;

  constructor(options: WindowsOptions = {}) {
    this.windows = new WindowTables(options);
  }

  apply(tx: UsdTransaction, eventMs: number): string | undefined {
    const micros = toMicros(tx.AMOUNT_USD);
    const type = typeOrUnknown(tx.TRANSACTION_TYPE);
    const refused = this.users.check(tx, micros) ?? this.deltas.check(type, eventMs, micros);
    if (refused !== undefined) return refused;
    this.users.apply(tx, micros, eventMs);
    this.deltas.add(type, eventMs, micros);
    return undefined;
  }

  drain() {
    const users = this.users.drain();
    for (const delta of this.deltas.take()) this.windows.apply(delta);
    return { userSpending: users.userSpending, windows: this.windows.drain(), users: users.users };
  }

  counters() {
    return this.windows.counters();
  }

  restoreUserSpending(key: string, value: Record<string, unknown> | null) {
    this.users.restoreUserSpending(key, value);
  }
  restoreWindow(key: string, value: Record<string, unknown> | null) {
    this.windows.restoreWindow(key, value);
  }
  restoreUser(key: string, value: Record<string, unknown> | null) {
    this.users.restoreUser(key, value);
  }

  sizes() {
    return { ...this.users.sizes(), ...this.windows.sizes() };
  }
}
