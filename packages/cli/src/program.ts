/**
 * The `tessera` command tree. Built afresh for each run so no state leaks between runs.
 */
import { TESSERA_VERSION } from "@tessera/protocol/core";
import { Command } from "commander";
import { Cli } from "./cli.js";
import { registerCryptoCommands } from "./commands/crypto-commands.js";
import { registerEnvelopeCommands } from "./commands/envelope-commands.js";
import { registerMacCommands } from "./commands/mac-commands.js";
import { registerSecretCommands } from "./commands/secret-commands.js";
import { registerAsymmetricCommands } from "./commands/asymmetric-commands.js";
import { registerKeyCommands } from "./commands/key-commands.js";
import { registerDistributionCommands } from "./commands/distribution-commands.js";
import { registerOperatorCommands, registerStatusCommand } from "./commands/operator-commands.js";
import { registerServerCommand } from "./commands/server-command.js";
import { registerTokenCommands } from "./commands/token-commands.js";
import { registerIdentityCommands } from "./commands/identity-commands.js";
import { registerAuditCommands } from "./commands/audit-commands.js";
import { registerAgentCommands } from "./commands/agent-commands.js";
import type { Io } from "./io.js";
import { examples } from "./options.js";

export function buildProgram(cli: Cli): Command {
  const { io } = cli;
  const program = new Command("tessera")
    .usage("<command> [options]")
    .description("Tessera: a self-hosted Key Management Service. Keys stay in the server; you ask it to use them.")
    .version(TESSERA_VERSION, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .helpCommand("help [command]", "show help for a command")
    // Options after a command name belong to that command (so `derive --version` is derive's).
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText(
      "after",
      "\nEnvironment:\n" +
        "  TESSERA_ADDR   server address (default http://127.0.0.1:8200); --address overrides it\n" +
        "  TESSERA_TOKEN  token to authenticate with; --token overrides it\n" +
        "  TESSERA_CACERT PEM file of the CA that issued the server's TLS certificate; --ca-cert overrides it\n" +
        "\nEvery command that talks to a server takes --address, --token and --json after its name.\n" +
        "Exit codes: 0 success, 1 the request failed, 2 usage error (and `status`: sealed).\n" +
        examples(
          "tessera server --dev",
          "export TESSERA_ADDR=http://127.0.0.1:8200 TESSERA_TOKEN=…",
          "tessera key create payment-db",
          "tessera encrypt --key payment-db 'hello' | tessera decrypt",
        ),
    );

  registerCryptoCommands(program, cli);
  registerEnvelopeCommands(program, cli);
  registerMacCommands(program, cli);
  registerAsymmetricCommands(program, cli);
  registerKeyCommands(program, cli);
  registerDistributionCommands(program, cli);
  registerSecretCommands(program, cli);
  registerTokenCommands(program, cli);
  registerIdentityCommands(program, cli);
  registerAuditCommands(program, cli);
  registerAgentCommands(program, cli);
  registerStatusCommand(program, cli);
  registerOperatorCommands(program, cli);
  registerServerCommand(program, cli);
  return program;
}

export function newCli(io: Io): { cli: Cli; program: Command } {
  const cli = new Cli(io);
  return { cli, program: buildProgram(cli) };
}
