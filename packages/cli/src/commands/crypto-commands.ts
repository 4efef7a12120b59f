/**
 * Cryptographic operations: encrypt, decrypt, datakey, reencrypt, derive, random.
 *
 * Conventions: plaintext goes in and out as raw bytes (argument as UTF-8, `--in FILE`, or stdin);
 * ciphertexts and keys are printed as one line of base64, exactly what decrypt reads back.
 * `--json` prints the API response instead.
 */
import { writeFile } from "node:fs/promises";
import { MAX_PLAINTEXT_BYTES, encryptionAlgorithms } from "@tessera/protocol/core";
import type { EncryptionAlgorithm, GenerateDataKeyWithoutPlaintextResponse } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { collectPair, integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput, readStdin, type Io } from "../io.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

type Context = Record<string, string>;

const encryptionAlgorithmOption = (description: string) => new Option("--algorithm <algorithm>", description).choices(Object.keys(encryptionAlgorithms));

/** Raw bytes from the argument, `--in`, or stdin — in that order. */
async function readPlaintext(io: Io, argument: string | undefined, file: string | undefined): Promise<Buffer> {
  if (argument !== undefined && file !== undefined) throw new UsageError("give the plaintext as an argument or with --in, not both");
  if (argument !== undefined) return Buffer.from(argument, "utf8");
  if (file !== undefined) return readInput(io, file);
  if (io.stdin.isTTY === true) io.stderr.write("Reading the plaintext from stdin; end it with Ctrl-D.\n");
  return readStdin(io);
}

/** A ciphertext from the argument, `--in`, or stdin, with surrounding whitespace trimmed. */
async function readCiphertext(io: Io, argument: string | undefined, file: string | undefined): Promise<string> {
  if (argument !== undefined && file !== undefined) throw new UsageError("give the ciphertext as an argument or with --in, not both");
  const text = argument ?? (file !== undefined ? await readInput(io, file) : await readStdin(io)).toString("utf8");
  const ciphertext = text.trim();
  if (ciphertext === "") throw new UsageError("no ciphertext given (argument, --in FILE or stdin)");
  return ciphertext;
}

export function registerCryptoCommands(program: Command, cli: Cli): void {
  const group = "Cryptographic operations:";

  interface EncryptOptions { key: string; context?: Context; in?: string; algorithm?: EncryptionAlgorithm }
  withGlobalOptions(
    program
      .command("encrypt")
      .helpGroup(group)
      .summary("encrypt data under a key")
      .description(
        `Encrypt up to ${MAX_PLAINTEXT_BYTES} bytes under the primary version of a key and print the ciphertext as one ` +
          "line of base64. The plaintext is the argument (as UTF-8), the raw bytes of --in FILE, or the raw " +
          "bytes of stdin when neither is given. Decrypting needs the same --context entries.",
      )
      .argument("[plaintext]", "text to encrypt; omit to read bytes from --in or stdin")
      .requiredOption("--key <key>", "name or id of the key to encrypt under")
      .addOption(contextOption())
      .addOption(encryptionAlgorithmOption("RSAES_OAEP_SHA_1 or _SHA_256 with an RSA ENCRYPT_DECRYPT key (default SYMMETRIC_DEFAULT)"))
      .option("--in <file>", "read the plaintext bytes from FILE ('-' for stdin)"),
  )
    .addHelpText(
      "after",
      examples(
        "tessera encrypt --key payment-db --context vm=web-7 'card 4111…'",
        "tessera encrypt --key rsa-inbox --algorithm RSAES_OAEP_SHA_256 'for the inbox' --json",
        "tessera encrypt --key payment-db --in secret.bin > secret.enc",
        "echo -n s3cret | tessera encrypt --key payment-db --json",
      ),
    )
    .action(
      cli.action(async (plaintext: string | undefined, opts: EncryptOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const bytes = await readPlaintext(cli.io, plaintext, opts.in);
        const result = await client.encrypt(opts.key, { plaintext: bytes.toString("base64"), ...given("context", opts.context), ...given("encryptionAlgorithm", opts.algorithm) });
        if (out.json) out.data(result);
        else out.line(result.ciphertext);
      }),
    );

  interface DecryptOptions { key?: string; context?: Context; in?: string; out?: string; algorithm?: EncryptionAlgorithm; keyVersion?: number }
  withGlobalOptions(
    program
      .command("decrypt")
      .helpGroup(group)
      .summary("decrypt a ciphertext")
      .description(
        "Decrypt a ciphertext printed by `tessera encrypt` and write the plaintext bytes, unchanged, to " +
          "stdout (or to --out FILE, created readable by you only). The ciphertext is the argument, --in FILE, " +
          "or stdin; surrounding whitespace is ignored. The key and version are read from the ciphertext " +
          "itself.",
      )
      .argument("[ciphertext]", "base64 ciphertext; omit to read it from --in or stdin")
      .addOption(contextOption("--context <key=value>", "encryption context entry given when encrypting; repeat for more"))
      .option("--key <key>", "refuse (IncorrectKey) unless the ciphertext belongs to this key")
      .addOption(encryptionAlgorithmOption("RSAES_OAEP_SHA_1 or _SHA_256 for an RSA ciphertext (needs --key)"))
      .addOption(new Option("--key-version <n>", "RSA: the version the ciphertext was encrypted to (default: the primary)").argParser(integer(1)))
      .option("--in <file>", "read the ciphertext from FILE ('-' for stdin)")
      .option("--out <file>", "write the plaintext to FILE (mode 0600) instead of stdout"),
  )
    .addHelpText(
      "after",
      examples(
        "tessera decrypt --context vm=web-7 VAHx3…",
        "tessera decrypt --in secret.enc --out secret.bin",
        "tessera encrypt --key payment-db hello | tessera decrypt",
      ),
    )
    .action(
      cli.action(async (ciphertext: string | undefined, opts: DecryptOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if (out.json && opts.out !== undefined) throw new UsageError("--out and --json cannot be combined");
        const request = {
          ciphertext: await readCiphertext(cli.io, ciphertext, opts.in),
          ...given("context", opts.context),
          ...given("keyId", opts.key),
          ...given("encryptionAlgorithm", opts.algorithm),
          ...given("keyVersion", opts.keyVersion),
        };
        const result = await client.decrypt(request);
        if (out.json) return out.data(result);
        const plaintext = Buffer.from(result.plaintext, "base64");
        if (opts.out === undefined) return out.bytes(plaintext);
        try {
          await writeFile(opts.out, plaintext, { mode: 0o600 });
        } catch (err) {
          throw new Error(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }),
    );

  interface DataKeyOptions { key: string; spec?: "AES_256" | "AES_128"; bytes?: number; context?: Context; plaintext: boolean }
  withGlobalOptions(
    program
      .command("datakey")
      .helpGroup(group)
      .summary("generate a data key for envelope encryption")
      .description(
        "Generate a random data key and print it both in the clear and wrapped (encrypted) under a key, for " +
          "envelope encryption: encrypt your data locally with the plaintext key, forget it, and store the " +
          "wrapped key beside the data; `tessera decrypt` unwraps it later. Defaults to a 256-bit key.",
      )
      .requiredOption("--key <key>", "name or id of the key that wraps the data key")
      .addOption(new Option("--spec <spec>", "data key type").choices(["AES_256", "AES_128"]).conflicts("bytes"))
      .addOption(new Option("--bytes <n>", "data key length in bytes (1-1024) instead of --spec").argParser(integer(1, 1024)))
      .addOption(contextOption())
      .option("--no-plaintext", "return only the wrapped key (needs kms:GenerateDataKeyWithoutPlaintext)"),
  )
    .addHelpText(
      "after",
      examples("tessera datakey --key payment-db --context vm=web-7", "tessera datakey --key payment-db --no-plaintext --json"),
    )
    .action(
      cli.action(async (opts: DataKeyOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const request = { ...given("keySpec", opts.spec), ...given("numberOfBytes", opts.bytes), ...given("context", opts.context) };
        const result: GenerateDataKeyWithoutPlaintextResponse & { plaintext?: string } = opts.plaintext
          ? await client.generateDataKey(opts.key, request)
          : await client.generateDataKeyWithoutPlaintext(opts.key, request);
        if (out.json) return out.data(result);
        out.fields([
          ["keyId", result.keyId],
          ["keyVersion", result.keyVersion],
          ["ciphertext", result.ciphertext],
          ["plaintext", result.plaintext],
        ]);
      }),
    );

  interface ReEncryptOptions { key?: string; context?: Context; to?: string; toContext?: Context; in?: string }
  withGlobalOptions(
    program
      .command("reencrypt")
      .helpGroup(group)
      .summary("re-encrypt under another key or version")
      .description(
        "Decrypt and encrypt again inside Tessera, so the plaintext never leaves it: under the same key's " +
          "primary version (after a rotation), or under another key with --to. The new ciphertext is bound to " +
          "the same --context entries unless --to-context gives others. Prints the new ciphertext.",
      )
      .argument("[ciphertext]", "base64 ciphertext; omit to read it from --in or stdin")
      .addOption(contextOption("--context <key=value>", "encryption context of the ciphertext; repeat for more"))
      .option("--key <key>", "refuse unless the ciphertext belongs to this key")
      .option("--to <key>", "key to encrypt under (default: the ciphertext's own key)")
      .addOption(contextOption("--to-context <key=value>", "encryption context for the new ciphertext (default: the --context entries); repeat for more"))
      .option("--in <file>", "read the ciphertext from FILE ('-' for stdin)"),
  )
    .addHelpText("after", examples("tessera reencrypt --context vm=web-7 --in card.enc   # still bound to vm=web-7", "tessera reencrypt --to archive --in old.enc > new.enc", "tessera reencrypt --context vm=web-7 --to-context vm=web-8 --in card.enc"))
    .action(
      cli.action(async (ciphertext: string | undefined, opts: ReEncryptOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.reEncrypt({
          ciphertext: await readCiphertext(cli.io, ciphertext, opts.in),
          ...given("sourceContext", opts.context),
          ...given("sourceKeyId", opts.key),
          ...given("destinationKeyId", opts.to),
          // The API's default is no context at all; a CLI user who named one means to keep it.
          ...given("destinationContext", opts.toContext ?? opts.context),
        });
        if (out.json) out.data(result);
        else out.line(result.ciphertext);
      }),
    );

  interface DeriveOptions { key: string; context: Context; length?: number; version?: number }
  withGlobalOptions(
    program
      .command("derive")
      .helpGroup(group)
      .summary("derive a key for a context")
      .description(
        "Derive a key with HKDF from a version of a key and a context, and print it as base64. The same key, " +
          "version and context always give the same result, so each VM or purpose gets its own key without " +
          "Tessera storing it.",
      )
      .requiredOption("--key <key>", "name or id of the key to derive from")
      .addOption(new Option("--context <key=value>", "context entry the key is derived for; repeat for more").argParser(collectPair).makeOptionMandatory())
      .addOption(new Option("--length <bytes>", "length of the derived key in bytes (16-64, default 32)").argParser(integer(16, 64)))
      .addOption(new Option("--version <n>", "key version to derive from (default: the primary version)").argParser(integer(1))),
  )
    .addHelpText("after", examples("tessera derive --key vm-keys --context vm=web-7 --context purpose=disk"))
    .action(
      cli.action(async (opts: DeriveOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.derive(opts.key, { context: opts.context, ...given("length", opts.length), ...given("keyVersion", opts.version) });
        if (out.json) out.data(result);
        else out.line(result.derivedKey);
      }),
    );

  withGlobalOptions(
    program
      .command("random")
      .helpGroup(group)
      .summary("print random bytes")
      .description("Print N bytes (default 32) from Tessera's random generator as base64.")
      .argument("[bytes]", "number of bytes, 1-1024", integer(1, 1024), 32),
  )
    .addHelpText("after", examples("tessera random", "tessera random 64 --json"))
    .action(
      cli.action(async (numberOfBytes: number, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.generateRandom({ numberOfBytes });
        if (out.json) out.data(result);
        else out.line(result.plaintext);
      }),
    );
}
