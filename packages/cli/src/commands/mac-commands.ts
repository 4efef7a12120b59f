/**
 * MACs with HMAC keys: `tessera mac generate` and `tessera mac verify`.
 *
 * The message goes in as raw bytes (argument as UTF-8, `--in FILE`, or stdin) and the MAC comes out
 * as one line of base64. Without `--algorithm`, the key's own MAC algorithm is looked up (an HMAC key
 * has exactly one), which needs `kms:DescribeKey`. `verify` prints `valid` or `invalid` and exits 1
 * when the MAC does not verify, so it can guard a shell pipeline.
 */
import { algorithmsFor, macAlgorithms } from "@tessera/protocol/core";
import type { MacAlgorithm } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput, readStdin, type Io } from "../io.js";
import { examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

const EXIT_INVALID = 1;

async function readMessage(io: Io, argument: string | undefined, file: string | undefined): Promise<Buffer> {
  if (argument !== undefined && file !== undefined) throw new UsageError("give the message as an argument or with --in, not both");
  if (argument !== undefined) return Buffer.from(argument, "utf8");
  if (file !== undefined) return readInput(io, file);
  if (io.stdin.isTTY === true) io.stderr.write("Reading the message from stdin; end it with Ctrl-D.\n");
  return readStdin(io);
}

export function registerMacCommands(program: Command, cli: Cli): void {
  const group = "Cryptographic operations:";
  const mac = program.command("mac").helpGroup(group).summary("make and check MACs with HMAC keys").description("Make and check MACs (HMAC) with HMAC keys.");
  const algorithmOption = () =>
    new Option("--algorithm <algorithm>", "MAC algorithm (default: the key's own, looked up with kms:DescribeKey)").choices(Object.keys(macAlgorithms));

  /** The request's algorithm: the one given, else the key's only one. */
  async function algorithmOf(client: ReturnType<Cli["connect"]>["client"], key: string, given: string | undefined): Promise<MacAlgorithm> {
    if (given !== undefined) return given as MacAlgorithm;
    const k = await client.describeKey(key);
    const [only] = algorithmsFor(k.keySpec, "GENERATE_VERIFY_MAC");
    if (only === undefined) throw new UsageError(`key ${key} is a ${k.keySpec} key, not an HMAC key`);
    return only;
  }

  interface GenerateOptions { key: string; algorithm?: string; in?: string }
  withGlobalOptions(
    mac
      .command("generate")
      .summary("print the MAC of a message")
      .description("Compute the HMAC of a message under an HMAC key's primary version and print it as base64 (--json also names the version).")
      .argument("[message]", "the message as text; omit to read bytes from --in or stdin")
      .requiredOption("--key <key>", "name or id of the HMAC key")
      .addOption(algorithmOption())
      .option("--in <file>", "read the message from FILE ('-' for stdin)"),
  )
    .addHelpText("after", examples("tessera mac generate --key webhooks 'payload'", "tessera mac generate --key webhooks --in body.json --json"))
    .action(
      cli.action(async (message: string | undefined, opts: GenerateOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const bytes = await readMessage(cli.io, message, opts.in);
        const result = await client.generateMac(opts.key, { message: bytes.toString("base64"), macAlgorithm: await algorithmOf(client, opts.key, opts.algorithm) });
        if (out.json) out.data(result);
        else out.line(result.mac);
      }),
    );

  interface VerifyOptions { key: string; mac: string; algorithm?: string; version?: number; in?: string }
  withGlobalOptions(
    mac
      .command("verify")
      .summary("check a MAC")
      .description(
        "Check a MAC of a message against one version of an HMAC key (--version, default the primary). " +
          "Prints valid or invalid; exits 1 when the MAC does not verify.",
      )
      .argument("[message]", "the message as text; omit to read bytes from --in or stdin")
      .requiredOption("--key <key>", "name or id of the HMAC key")
      .requiredOption("--mac <base64>", "the MAC to check")
      .addOption(algorithmOption())
      .addOption(new Option("--version <n>", "key version that made the MAC (default: the primary version)").argParser(integer(1)))
      .option("--in <file>", "read the message from FILE ('-' for stdin)"),
  )
    .addHelpText("after", examples("tessera mac verify --key webhooks --mac \"$MAC\" 'payload'", "tessera mac verify --key webhooks --mac \"$MAC\" --version 1 --in body.json"))
    .action(
      cli.action(async (message: string | undefined, opts: VerifyOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const bytes = await readMessage(cli.io, message, opts.in);
        const result = await client.verifyMac(opts.key, {
          message: bytes.toString("base64"),
          mac: opts.mac.trim(),
          macAlgorithm: await algorithmOf(client, opts.key, opts.algorithm),
          ...given("keyVersion", opts.version),
        });
        if (out.json) out.data(result);
        else out.line(result.macValid ? "valid" : "invalid");
        return result.macValid ? 0 : EXIT_INVALID;
      }),
    );
}
