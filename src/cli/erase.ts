import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const eraseCommand: Command = {
  summary: "",
  usage: "erase",
  options: {},
  run: () => Promise.resolve(notYet("erase")),
};
