import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const consumeCommand: Command = {
  summary: "",
  usage: "consume",
  options: {},
  run: () => Promise.resolve(notYet("consume")),
};
