import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const auditPiiCommand: Command = {
  summary: "",
  usage: "audit_pii",
  options: {},
  run: () => Promise.resolve(notYet("audit_pii")),
};
