import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const cleanupCommand: Command = {
  summary: "",
  usage: "cleanup",
  options: {},
  run: () => Promise.resolve(notYet("cleanup")),
};
