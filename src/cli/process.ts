import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const processCommand: Command = {
  summary: "",
  usage: "process",
  options: {},
  run: () => Promise.resolve(notYet("process")),
};
