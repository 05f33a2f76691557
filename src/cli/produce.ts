import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const produceCommand: Command = {
  summary: "",
  usage: "produce",
  options: {},
  run: () => Promise.resolve(notYet("produce")),
};
