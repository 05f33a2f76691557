/** Topics of their own for one processor test run, by role. */
import { STATUSES } from "../../src/config/settings.ts";
import type { ProcessorTopics } from "../../src/processor/topics.ts";
import { uniqueName } from "../helpers/env.ts";

export function isolatedTopics(): ProcessorTopics {
  const id = uniqueName("p");
  return {
    raw: `${id}_raw`,
    rejected: `${id}_rejected`,
    secure: `${id}_SECURE`,
    usd: `${id}_USD`,
    blacklisted: `${id}_BLACKLISTED`,
    userSpending: `${id}_USER_SPENDING`,
    windows: `${id}_WINDOWS`,
    users: `${id}_USERS`,
    rates: `${id}_RATES`,
    byStatus: Object.fromEntries(STATUSES.map((s) => [s, `${id}_${s.toUpperCase()}`])),
  };
}

/** Every topic the processor writes, for "no personal data anywhere" checks. */
export function outputTopics(t: ProcessorTopics): string[] {
  return [
    t.secure,
    t.usd,
    t.blacklisted,
    ...Object.values(t.byStatus),
    t.userSpending,
    t.windows,
    t.users,
  ];
}
