import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const accountsCommand: Command = {
  summary: "",
  usage: "accounts",
  options: {},
  run: () => Promise.resolve(notYet("accounts")),
};
