import type { Command } from "./command.ts";
import { notYet } from "./not_yet.ts";

export const serveCommand: Command = {
  summary: "",
  usage: "serve",
  options: {},
  run: () => Promise.resolve(notYet("serve")),
};
