/** How each stage's state is built from, saved to and read back from its changelogs. */
import type { StateKind } from "./restore.ts";
import type { ProcessorTopics } from "./topics.ts";
import { UserTables, type UserTablesSnapshot } from "./user_tables.ts";
import { WindowTables, type WindowTablesSnapshot } from "./windows.ts";

/** Stage one: USER_SPENDING_BY_TYPE and USERS of one raw partition. */
export function userStateKind(topics: ProcessorTopics): StateKind<UserTables> {
  return {
    name: "users",
    empty: () => new UserTables(),
    fromSnapshot: (state) => UserTables.fromSnapshot(state as UserTablesSnapshot),
    toSnapshot: (tables) => tables.snapshot(),
    changelogs: [topics.userSpending, topics.users],
    apply: (tables, topic, key, value) => {
      if (topic === topics.userSpending) tables.restoreUserSpending(key, value);
      else tables.restoreUser(key, value);
    },
  };
}

/** Stage two: the windows of the types of one repartition partition. */
export function windowStateKind(topics: ProcessorTopics): StateKind<WindowTables> {
  return {
    name: "windows",
    empty: () => new WindowTables(),
    fromSnapshot: (state) => WindowTables.fromSnapshot(state as WindowTablesSnapshot),
    toSnapshot: (tables) => tables.snapshot(),
    changelogs: [topics.windows],
    apply: (tables, _topic, key, value) => tables.restoreWindow(key, value),
  };
}
