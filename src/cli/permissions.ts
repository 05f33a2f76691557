import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const permissionsCommand: Command = {
  summary: "",
  usage: "permissions",
  options: {},
  run: () => Promise.resolve(notYet("permissions")),
};
