/**
 * The status file (`STATE_DIR/status.json`, 0600) that a running agent keeps up to date and
 * `tessera agent status` reads: identity, expiries, the last success and the last error. It holds
 * no token and no plaintext.
 */
import { join } from "node:path";
import { STATUS_FILE, readJsonFile, writeAtomic } from "./state.js";

export interface AgentStatus {
  pid: number;
  state: "starting" | "running" | "stopped";
  startedAt: string;
  updatedAt: string;
  identity: { vmId: string; role: string; serial: string; keyProtection: "file" | "tpm" } | null;
  certificate: { expiresAt: string; renewAt: string } | null;
  token: { expiresAt: string | null; renewAt: string | null } | null;
  lastSuccess: string | null;
  lastError: { at: string; code: string; message: string } | null;
  listener: { socket: string | null; tcpPort: number | null };
  templates: { name: string; renderedAt: string | null; error: string | null }[];
}

export class StatusFile {
  readonly path: string;
  #status: AgentStatus;
  #writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string, now: number) {
    this.path = join(stateDir, STATUS_FILE);
    const at = new Date(now).toISOString();
    this.#status = {
      pid: process.pid,
      state: "starting",
      startedAt: at,
      updatedAt: at,
      identity: null,
      certificate: null,
      token: null,
      lastSuccess: null,
      lastError: null,
      listener: { socket: null, tcpPort: null },
      templates: [],
    };
  }

  get current(): Readonly<AgentStatus> {
    return this.#status;
  }

  /** Applies `change` and writes the file (writes are serialised, the last one wins). */
  update(change: Partial<AgentStatus>, now: number): Promise<void> {
    this.#status = { ...this.#status, ...change, updatedAt: new Date(now).toISOString() };
    const text = `${JSON.stringify(this.#status, null, 2)}\n`;
    this.#writing = this.#writing.then(() => writeAtomic(this.path, text, 0o600)).catch(() => undefined);
    return this.#writing;
  }

  template(name: string, renderedAt: string | null, error: string | null, now: number): Promise<void> {
    const others = this.#status.templates.filter((t) => t.name !== name);
    return this.update({ templates: [...others, { name, renderedAt, error }].sort((a, b) => a.name.localeCompare(b.name)) }, now);
  }
}

export function readStatus(stateDir: string): Promise<AgentStatus | undefined> {
  return readJsonFile<AgentStatus>(join(stateDir, STATUS_FILE));
}

/** Whether the process that wrote the status is still alive (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
