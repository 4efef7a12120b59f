/**
 * `tessera agent run` and `tessera agent exec` as processes: logs as JSON lines on stderr, SIGHUP
 * reloads the configuration, SIGTERM/SIGINT stop cleanly (listeners closed, rendered files removed).
 */
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { Agent, readServerCa } from "./agent.js";
import { systemAgentClock } from "./clock.js";
import { loadAgentConfig, type AgentConfig } from "./config.js";
import { AgentIdentity } from "./identity.js";
import { KeyStore } from "./key-store.js";
import { describeError, jsonLog, type AgentLog } from "./log.js";
import { backoffDelay } from "./renewal.js";
import { ensurePrivateDir } from "./state.js";
import { loadTemplates, renderEnvironment } from "./templates.js";

export interface RunOptions {
  config: string;
  reenrol: boolean;
  tpm: boolean;
}

async function configFor(o: RunOptions): Promise<AgentConfig> {
  const c = await loadAgentConfig(o.config);
  return o.tpm && c.tpm === undefined ? { ...c, tpm: { tcti: undefined, pcrs: undefined } } : c;
}

/** Runs the agent until SIGTERM or SIGINT; resolves with the exit code. */
export async function runAgent(o: RunOptions, stderr: Writable): Promise<number> {
  const log = jsonLog(stderr);
  const agent = new Agent(await configFor(o), { clock: systemAgentClock, log });
  await agent.start({ reenrol: o.reenrol });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log("info", "stopping", { signal });
      process.off("SIGHUP", hup);
      agent.stop().then(
        () => resolve(0),
        (err: unknown) => (log("error", "stop failed", describeError(err)), resolve(1)),
      );
    };
    const hup = () => {
      loadAgentConfig(o.config)
        .then((next) => agent.reload(next))
        .catch((err: unknown) => log("error", "reload refused; the running configuration stays", describeError(err)));
    };
    process.on("SIGHUP", hup);
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

/** Logs in (enrolling first if needed), retrying while the server is unreachable. */
async function loggedIn(identity: AgentIdentity, c: AgentConfig, log: AgentLog): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (identity.current === undefined) await identity.enrol();
      else await identity.login();
      return;
    } catch (err) {
      const e = describeError(err);
      if (e.code !== "Unavailable" && e.code !== "Sealed" && e.code !== "NotInitialized") throw err;
      const wait = backoffDelay(attempt, c.renewal.retryInitialMs, c.renewal.retryMaxMs);
      log("warn", "server not ready; will retry", { ...e, retryInMs: wait });
      await systemAgentClock.sleep(wait);
    }
  }
}

/**
 * `tessera agent exec -- CMD ARGS`: renders the `env` templates once and runs CMD with them in its
 * environment (nothing written to disk), forwarding signals; resolves with CMD's exit code.
 */
export async function execWithSecrets(o: RunOptions, argv: string[], stderr: Writable): Promise<number> {
  const log = jsonLog(stderr);
  const c = await configFor(o);
  await ensurePrivateDir(c.stateDir);
  const templates = await loadTemplates(c.templates);
  const identity = new AgentIdentity(c, new KeyStore(c.stateDir, c.tpm), systemAgentClock, log, await readServerCa(c));
  await identity.load();
  await loggedIn(identity, c, log);
  const client = identity.dataClient();
  const env = await renderEnvironment(templates, client);
  log("info", "starting the command with rendered environment", { command: argv[0], variables: Object.keys(env) });
  return new Promise<number>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    child.on("error", (err) => {
      log("error", "cannot start the command", { command: argv[0], ...describeError(err) });
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? (signal === null ? 1 : 128 + 15));
    });
  });
}
