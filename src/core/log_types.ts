/** The logger's shapes, shared by log.ts and its terminal presentation (log_human.ts). */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;
