import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const loadCommand: Command = {
  summary: "",
  usage: "load",
  options: {},
  run: () => Promise.resolve(notYet("load")),
};
