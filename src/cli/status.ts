import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const statusCommand: Command = {
  summary: "",
  usage: "status",
  options: {},
  run: () => Promise.resolve(notYet("status")),
};
