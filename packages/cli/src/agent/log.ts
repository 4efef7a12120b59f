/**
 * The agent's log: one JSON object per line on stderr (journald and log shippers read it as is).
 * Callers pass only names, ids, times and error codes — never plaintext, key material or tokens.
 */
import type { Writable } from "node:stream";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type AgentLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export function jsonLog(stream: Writable, now: () => number = Date.now): AgentLog {
  return (level, msg, fields = {}) => {
    stream.write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...fields })}\n`);
  };
}

/** An error's code and message, for a log line or the status file. */
export function describeError(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown })?.code;
  return { code: typeof code === "string" ? code : "Error", message: err instanceof Error ? err.message : String(err) };
}
