/**
 * `tessera agent run|status|exec`: the VM agent (src/agent/). Its code is loaded only when one of
 * these commands runs.
 */
import type { Command } from "commander";
import type { Cli } from "../cli.js";
import { examples } from "../options.js";
import { UsageError } from "../usage-error.js";

const load = () => import("../agent/run.js");
const loadConfig = () => import("../agent/config.js");

async function withConfigErrors<T>(fn: () => Promise<T>): Promise<T> {
  const { AgentConfigError } = await loadConfig();
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AgentConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export function registerAgentCommands(program: Command, cli: Cli): void {
  const agent = program
    .command("agent")
    .helpGroup("Access:")
    .summary("run the VM agent: enrol, renew, local proxy, secrets to files and processes")
    .description(
      "The agent that runs on a VM: it enrols with a join token, keeps its instance certificate and token renewed, " +
        "serves the native API on a local Unix socket with its own credentials (so applications hold no token), and " +
        "renders templates with decrypted secrets into files or a child process's environment. See docs/agent.md.",
    );

  agent
    .command("run")
    .summary("run the agent until SIGTERM or SIGINT (SIGHUP reloads the configuration)")
    .requiredOption("--config <file>", "the agent's JSON configuration file")
    .option("--re-enrol", "discard the stored identity and enrol again with the join token")
    .option("--tpm", "keep the private key sealed to the TPM (as config \"tpm\": {} does)")
    .addHelpText("after", examples("tessera agent run --config /etc/tessera-agent/agent.json", "tessera agent run --config agent.json --tpm"))
    .action(
      cli.action(
        async (o: { config: string; reEnrol?: boolean; tpm?: boolean }) => {
          const { runAgent } = await load();
          return withConfigErrors(() => runAgent({ config: o.config, reenrol: o.reEnrol === true, tpm: o.tpm === true }, cli.io.stderr));
        },
        { credential: "other" },
      ),
    );

  agent
    .command("status")
    .summary("show the agent's identity, expiries, last success and last error")
    .requiredOption("--config <file>", "the agent's JSON configuration file")
    .option("--json", "print the status file as JSON")
    .addHelpText("after", examples("tessera agent status --config /etc/tessera-agent/agent.json --json"))
    .description("Reads STATE_DIR/status.json, which a running agent keeps current. Exit code 0 when the agent is running, 1 when it is not.")
    .action(
      cli.action(
        async (o: { config: string; json?: boolean }) => {
          const { loadAgentConfig } = await loadConfig();
          const { readStatus, isAlive } = await import("../agent/status.js");
          const config = await withConfigErrors(() => loadAgentConfig(o.config));
          const status = await readStatus(config.stateDir);
          const running = status !== undefined && status.state !== "stopped" && isAlive(status.pid);
          if (o.json === true) {
            cli.io.stdout.write(`${JSON.stringify(status === undefined ? { state: "never-run", running: false } : { ...status, running }, null, 2)}\n`);
            return running ? 0 : 1;
          }
          if (status === undefined) {
            cli.io.stdout.write(`The agent has not run with state directory ${config.stateDir}.\n`);
            return 1;
          }
          const lines: Array<[string, string]> = [
            ["state", running ? status.state : `${status.state} (not running)`],
            ["vm id", status.identity?.vmId ?? "-"],
            ["role", status.identity?.role ?? "-"],
            ["serial", status.identity?.serial ?? "-"],
            ["key", status.identity?.keyProtection ?? "-"],
            ["certificate expires", status.certificate?.expiresAt ?? "-"],
            ["certificate renews", status.certificate?.renewAt ?? "-"],
            ["token expires", status.token?.expiresAt ?? "-"],
            ["last success", status.lastSuccess ?? "-"],
            ["last error", status.lastError === null ? "-" : `${status.lastError.at} ${status.lastError.code}: ${status.lastError.message}`],
            ["socket", status.listener.socket ?? "-"],
          ];
          for (const t of status.templates) lines.push([`template ${t.name}`, t.error === null ? `rendered ${t.renderedAt}` : `error: ${t.error}`]);
          const width = Math.max(...lines.map(([k]) => k.length));
          cli.io.stdout.write(lines.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join(""));
          return running ? 0 : 1;
        },
        { credential: "other" },
      ),
    );

  agent
    .command("exec")
    .summary("run a command with the env templates rendered into its environment")
    .requiredOption("--config <file>", "the agent's JSON configuration file")
    .option("--tpm", "the private key is sealed to the TPM (as config \"tpm\": {} says)")
    .argument("<command...>", "the command and its arguments, after --")
    .passThroughOptions()
    .addHelpText("after", examples("tessera agent exec --config /etc/tessera-agent/agent.json -- /usr/bin/app --serve"))
    .action(
      cli.action(
        async (command: string[], o: { config: string; tpm?: boolean }) => {
          const { execWithSecrets } = await load();
          return withConfigErrors(() => execWithSecrets({ config: o.config, reenrol: false, tpm: o.tpm === true }, command, cli.io.stderr));
        },
        { credential: "other" },
      ),
    );
}
