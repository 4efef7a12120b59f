/**
 * The agent's composition root and lifecycle: identity and its renewal loop, the proxy, the
 * templates, the status file. `start` returns once everything is running (the first enrolment may
 * still be retrying); `reload` applies a new configuration (SIGHUP); `stop` closes the listeners,
 * removes the rendered files and records that the agent stopped.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import type { AgentClock } from "./clock.js";
import { AgentConfigError, type AgentConfig } from "./config.js";
import { AgentIdentity } from "./identity.js";
import { KeyStore } from "./key-store.js";
import type { AgentLog } from "./log.js";
import { AgentProxy } from "./proxy.js";
import { Renewal } from "./renewal.js";
import { ensurePrivateDir } from "./state.js";
import { StatusFile } from "./status.js";
import { loadTemplates, TemplateRunner } from "./templates.js";

export interface AgentDependencies {
  clock: AgentClock;
  log: AgentLog;
}

/** How long a proxied request waits for a fresh token after the server refused the old one. */
const TOKEN_REFRESH_WAIT_MS = 10_000;

export async function readServerCa(config: AgentConfig): Promise<Buffer | undefined> {
  if (config.server.caCert === undefined) return undefined;
  try {
    return await readFile(config.server.caCert);
  } catch (err) {
    throw new AgentConfigError(`cannot read server.ca_cert ${config.server.caCert}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export class Agent {
  #config: AgentConfig;
  readonly #deps: AgentDependencies;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #identity!: AgentIdentity;
  #renewal!: Renewal;
  #proxy!: AgentProxy;
  #templates!: TemplateRunner;
  status!: StatusFile;

  constructor(config: AgentConfig, deps: AgentDependencies) {
    this.#config = config;
    this.#deps = deps;
  }

  get identity(): AgentIdentity {
    return this.#identity;
  }

  /** The loopback port the proxy listens on, if any. */
  get tcpPort(): number | undefined {
    return this.#proxy.tcpPort;
  }

  async start(options: { reenrol?: boolean } = {}): Promise<void> {
    const { clock, log } = this.#deps;
    const c = this.#config;
    await ensurePrivateDir(c.stateDir);
    const serverCa = await readServerCa(c);
    const templates = await loadTemplates(c.templates);
    this.status = new StatusFile(c.stateDir, clock.now());
    const keys = new KeyStore(c.stateDir, c.tpm === undefined ? undefined : { tcti: c.tpm.tcti, pcrs: c.tpm.pcrs });
    this.#identity = new AgentIdentity(c, keys, clock, log, serverCa);
    if (options.reenrol === true) {
      await this.#identity.forget();
      log("warn", "re-enrolling: the previous identity was discarded");
    } else if (await this.#identity.load()) {
      const id = this.#identity.current!;
      log("info", "identity loaded", { vmId: id.vmId, serial: id.serial, expiresAt: id.expiresAt, keyProtection: keys.protection });
    }
    this.#templates = new TemplateRunner(templates, { client: () => this.#identity.dataClient(), clock, log, status: this.status, pollMs: c.pollMs });
    this.#renewal = new Renewal(this.#identity, clock, log, this.status, { ...c.renewal, onToken: () => this.#templates.poke() });
    this.#proxy = this.#newProxy(c, serverCa);
    await this.#proxy.start();
    await this.status.update({ state: "running", listener: { socket: c.listener.socket ?? null, tcpPort: this.#proxy.tcpPort ?? null } }, clock.now());
    this.#loops.push(this.#renewal.run(this.#stop.signal), this.#templates.run(this.#stop.signal));
    log("info", "agent started", { socket: c.listener.socket ?? null, tcpPort: this.#proxy.tcpPort ?? null, templates: c.templates.length });
  }

  #newProxy(c: AgentConfig, serverCa: Buffer | undefined): AgentProxy {
    return new AgentProxy({
      server: { address: c.server.address, ca: serverCa },
      socket: c.listener.socket,
      mode: c.listener.mode,
      group: c.listener.group,
      tcpPort: c.listener.tcpPort,
      allow: c.listener.allow,
      token: () => this.#identity.token,
      refreshToken: () => this.#renewal.refreshToken(TOKEN_REFRESH_WAIT_MS),
      log: this.#deps.log,
    });
  }

  /** Resolves once the agent holds a token (checked every 20 ms of real time, whatever the agent's clock). */
  async waitForToken(signal?: AbortSignal): Promise<void> {
    while (this.#identity.token === undefined && !signal?.aborted && !this.#stop.signal.aborted) await delay(20);
  }

  /**
   * Applies a changed configuration: templates, the allow-list and the poll interval take effect at
   * once. The server, state directory, TPM and listener addresses need a restart (logged).
   */
  async reload(next: AgentConfig): Promise<void> {
    const { log } = this.#deps;
    const templates = await loadTemplates(next.templates);
    const prev = this.#config;
    const needsRestart = (["server", "stateDir", "tpm"] as const).filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
    if (prev.listener.socket !== next.listener.socket || prev.listener.tcpPort !== next.listener.tcpPort || prev.listener.mode !== next.listener.mode || prev.listener.group !== next.listener.group) {
      needsRestart.push("listener" as never);
    }
    this.#proxy.setAllow(next.listener.allow);
    await this.#templates.replace(templates, next.pollMs);
    this.#config = { ...prev, templates: next.templates, pollMs: next.pollMs, listener: { ...prev.listener, allow: next.listener.allow } };
    log("info", "configuration reloaded", { templates: next.templates.length, ...(needsRestart.length > 0 && { ignoredUntilRestart: needsRestart }) });
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#proxy?.stop();
    await Promise.allSettled(this.#loops);
    await this.#templates?.close();
    await this.status?.update({ state: "stopped" }, this.#deps.clock.now());
    this.#deps.log("info", "agent stopped");
  }
}
