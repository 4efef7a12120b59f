/**
 * Options shared by many commands, and the help text conventions.
 */
import { Option, type Command } from "commander";
import { DEFAULT_ADDRESS } from "./cli.js";
import { collectPair } from "./args.js";

/**
 * `--address`, `--token`, `--ca-cert` and `--json`, taken by every command that talks to a server. They go
 * after the command name, as with Vault's CLI; environment variables set them for every command.
 * Call it after adding the command's own options, so they are listed first in its help.
 */
export function withGlobalOptions(cmd: Command): Command {
  const group = "Global Options:";
  return cmd
    .addHelpOption(new Option("-h, --help", "show help for this command").helpGroup(group))
    .addOption(
      new Option("--address <url>", "address of the Tessera server").env("TESSERA_ADDR").default(DEFAULT_ADDRESS).helpGroup(group),
    )
    .addOption(new Option("--token <token>", "token to authenticate with").env("TESSERA_TOKEN").helpGroup(group))
    .addOption(new Option("--ca-cert <file>", "PEM CA certificate to trust for the server's TLS certificate").env("TESSERA_CACERT").helpGroup(group))
    .addOption(new Option("--json", "print the result as JSON with the API's field names (a failure: the error body, on stderr)").helpGroup(group));
}

/** A repeatable `--context key=value` (or another name) building an encryption context. */
export function contextOption(flags = "--context <key=value>", description = "encryption context entry; repeat for more"): Option {
  return new Option(flags, description).argParser(collectPair);
}

/** An `Examples:` block for the end of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => (line.startsWith("#") ? `  ${line}` : `  $ ${line}`)).join("\n")}\n`;
}

/** Spreads `{ [name]: value }` only when the value was given, for optional request fields. */
export function given<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
