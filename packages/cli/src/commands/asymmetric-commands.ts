/**
 * Asymmetric keys: sign, verify, public-key, datakey-pair, shared-secret.
 *
 * Conventions as the other crypto commands: messages go in as raw bytes (argument as UTF-8, `--in
 * FILE`, or stdin); signatures come out as one line of base64; public keys as PEM (`--der FILE` for
 * DER). `--json` prints the API response instead.
 */
import { writeFile } from "node:fs/promises";
import { MAX_SIGN_MESSAGE_BYTES, dataKeyPairSpecs, signingAlgorithms } from "@tessera/protocol/core";
import type { DataKeyPairSpec, GenerateDataKeyPairWithoutPlaintextResponse, SigningAlgorithm } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import { nodeCrypto } from "../builtins.js";
import type { Cli } from "../cli.js";
import { readInput, readStdin, type Io } from "../io.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

/** Raw bytes from the argument, `--in`, or stdin — in that order. */
async function readMessage(io: Io, argument: string | undefined, file: string | undefined): Promise<Buffer> {
  if (argument !== undefined && file !== undefined) throw new UsageError("give the message as an argument or with --in, not both");
  if (argument !== undefined) return Buffer.from(argument, "utf8");
  if (file !== undefined) return readInput(io, file);
  if (io.stdin.isTTY === true) io.stderr.write("Reading the message from stdin; end it with Ctrl-D.\n");
  return readStdin(io);
}

/** A public key from a file, PEM or DER, as DER SubjectPublicKeyInfo. */
async function readPublicKey(io: Io, file: string): Promise<Buffer> {
  const bytes = await readInput(io, file);
  const { createPublicKey } = nodeCrypto();
  try {
    const text = bytes.toString("utf8");
    const key = text.includes("-----BEGIN") ? createPublicKey(text) : createPublicKey({ key: bytes, format: "der", type: "spki" });
    return key.export({ type: "spki", format: "der" });
  } catch {
    throw new UsageError(`${file} is not a public key (PEM or DER SubjectPublicKeyInfo)`);
  }
}

const pem = (derBase64: string): string =>
  nodeCrypto().createPublicKey({ key: Buffer.from(derBase64, "base64"), format: "der", type: "spki" }).export({ type: "spki", format: "pem" }).toString();

const algorithmOption = () =>
  new Option("--algorithm <algorithm>", "signing algorithm (the key's spec allows some: see `tessera public-key`)")
    .choices(Object.keys(signingAlgorithms))
    .makeOptionMandatory();

export function registerAsymmetricCommands(program: Command, cli: Cli): void {
  const group = "Asymmetric keys:";

  interface SignOptions { key: string; algorithm: SigningAlgorithm; digest?: boolean; in?: string; signerId?: string }
  withGlobalOptions(
    program
      .command("sign")
      .helpGroup(group)
      .summary("sign a message with an asymmetric key")
      .description(
        `Sign a message (at most ${MAX_SIGN_MESSAGE_BYTES} bytes) with the primary version of a SIGN_VERIFY key and ` +
          "print the signature as one line of base64 — the standard encoding, so any implementation verifies it " +
          "with the key's public key. With --digest the input is the message's hash under the algorithm's hash " +
          "(RSA and ECDSA only). The version that signed is noted on stderr (and in --json): verifying after a " +
          "rotation needs it.",
      )
      .argument("[message]", "text to sign; omit to read bytes from --in or stdin")
      .requiredOption("--key <key>", "name or id of the key")
      .addOption(algorithmOption())
      .option("--digest", "the input is a digest (MessageType DIGEST), not the message")
      .option("--signer-id <id>", "SM2DSA only: the signer's distinguishing id (default 1234567812345678, as OpenSSL's distid)")
      .option("--in <file>", "read the message bytes from FILE ('-' for stdin)"),
  )
    .addHelpText(
      "after",
      examples(
        "tessera sign --key release-signer --algorithm ECDSA_SHA_256 --in release.tar.gz.sha256 --digest > release.sig",
        "tessera sign --key tokens --algorithm ED25519_SHA_512 'payload' --json",
      ),
    )
    .action(
      cli.action(async (message: string | undefined, opts: SignOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const bytes = await readMessage(cli.io, message, opts.in);
        const result = await client.sign(opts.key, { message: bytes.toString("base64"), signingAlgorithm: opts.algorithm, messageType: opts.digest === true ? "DIGEST" : "RAW", ...given("signerId", opts.signerId) });
        if (out.json) return out.data(result);
        out.line(result.signature);
        out.note(`signed with version ${result.keyVersion} of ${result.keyId}`);
      }),
    );

  interface VerifyOptions { key: string; algorithm: SigningAlgorithm; signature: string; digest?: boolean; in?: string; keyVersion?: number; signerId?: string }
  withGlobalOptions(
    program
      .command("verify")
      .helpGroup(group)
      .summary("verify a signature")
      .description(
        "Verify a signature made by `tessera sign` (or any signer holding the key) with one version of the key: " +
          "--key-version, else the primary. Prints `valid` and exits 0, or prints `invalid` and exits 1.",
      )
      .argument("[message]", "the signed text; omit to read bytes from --in or stdin")
      .requiredOption("--key <key>", "name or id of the key")
      .addOption(algorithmOption())
      .requiredOption("--signature <base64|@file>", "the signature as base64, or @FILE holding it (base64 or raw bytes)")
      .option("--digest", "the input is a digest (MessageType DIGEST), not the message")
      .addOption(new Option("--key-version <n>", "the version that signed (default: the primary version)").argParser(integer(1)))
      .option("--signer-id <id>", "SM2DSA only: the signer's distinguishing id (default 1234567812345678, as OpenSSL's distid)")
      .option("--in <file>", "read the message bytes from FILE ('-' for stdin)"),
  )
    .addHelpText("after", examples("tessera verify --key release-signer --algorithm ECDSA_SHA_256 --digest --signature @release.sig --in release.tar.gz.sha256"))
    .action(
      cli.action(async (message: string | undefined, opts: VerifyOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const bytes = await readMessage(cli.io, message, opts.in);
        const signature = await readSignature(cli.io, opts.signature);
        const result = await client.verify(opts.key, {
          message: bytes.toString("base64"),
          signingAlgorithm: opts.algorithm,
          messageType: opts.digest === true ? "DIGEST" : "RAW",
          signature,
          ...given("keyVersion", opts.keyVersion),
          ...given("signerId", opts.signerId),
        });
        if (out.json) out.data(result);
        else out.line(result.signatureValid ? "valid" : "invalid");
        return result.signatureValid ? 0 : 1;
      }),
    );

  interface PublicKeyOptions { version?: number; der?: string }
  withGlobalOptions(
    program
      .command("public-key")
      .helpGroup(group)
      .summary("print an asymmetric key's public key (PEM)")
      .description(
        "Print the public key of a version of an asymmetric key (default: the primary version) as PEM, for " +
          "openssl and other tools; --der FILE writes the DER SubjectPublicKeyInfo instead. --json adds the " +
          "key's spec, usage and algorithms.",
      )
      .argument("<key>", "key name or id")
      .addOption(new Option("--version <n>", "key version (default: the primary version)").argParser(integer(1)))
      .option("--der <file>", "write the public key as DER to FILE instead of printing PEM"),
  )
    .addHelpText("after", examples("tessera public-key release-signer > release-signer.pem", "openssl dgst -sha256 -verify release-signer.pem -signature release.sig release.tar.gz"))
    .action(
      cli.action(async (key: string, opts: PublicKeyOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.getPublicKey(key, opts.version);
        if (opts.der !== undefined) await writeFile(opts.der, Buffer.from(result.publicKey, "base64"));
        if (out.json) return out.data(result);
        if (opts.der === undefined) cli.io.stdout.write(pem(result.publicKey));
        out.note(`${result.keySpec} ${result.keyUsage}, version ${result.keyVersion}: ${result.algorithms.join(", ")}`);
      }),
    );

  interface PairOptions { key: string; spec: DataKeyPairSpec; context?: Record<string, string>; plaintext: boolean }
  withGlobalOptions(
    program
      .command("datakey-pair")
      .helpGroup(group)
      .summary("generate a key pair whose private key is wrapped under a key")
      .description(
        "Generate a key pair and print its public key (DER, base64), its private key (PKCS#8 DER, base64) and " +
          "the private key encrypted under a symmetric key — `tessera decrypt` opens it later. Tessera keeps " +
          "nothing. --no-plaintext prints only the encrypted private key.",
      )
      .requiredOption("--key <key>", "name or id of the symmetric key that encrypts the private key")
      .addOption(new Option("--spec <spec>", "key pair type").choices(dataKeyPairSpecs).makeOptionMandatory())
      .addOption(contextOption())
      .option("--no-plaintext", "return only the encrypted private key (needs kms:GenerateDataKeyPairWithoutPlaintext)"),
  )
    .addHelpText("after", examples("tessera datakey-pair --key device-keys --spec ECC_NIST_P256 --json"))
    .action(
      cli.action(async (opts: PairOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const request = { keyPairSpec: opts.spec, ...given("context", opts.context) };
        const result: GenerateDataKeyPairWithoutPlaintextResponse & { privateKeyPlaintext?: string } = opts.plaintext
          ? await client.generateDataKeyPair(opts.key, request)
          : await client.generateDataKeyPairWithoutPlaintext(opts.key, request);
        if (out.json) return out.data(result);
        out.fields([
          ["keyId", result.keyId],
          ["keyVersion", result.keyVersion],
          ["keyPairSpec", result.keyPairSpec],
          ["publicKey", result.publicKey],
          ["privateKeyCiphertext", result.privateKeyCiphertext],
          ["privateKeyPlaintext", result.privateKeyPlaintext],
        ]);
      }),
    );

  interface SharedSecretOptions { key: string; publicKey: string; keyVersion?: number }
  withGlobalOptions(
    program
      .command("shared-secret")
      .helpGroup(group)
      .summary("ECDH with a KEY_AGREEMENT key and a peer's public key")
      .description(
        "Derive the raw ECDH shared secret between a KEY_AGREEMENT key and a peer's public key (a PEM or DER " +
          "file on the key's curve) and print it as base64. Derive working keys from it with a KDF.",
      )
      .requiredOption("--key <key>", "name or id of the key")
      .requiredOption("--public-key <file>", "the peer's public key, PEM or DER")
      .addOption(new Option("--key-version <n>", "key version (default: the primary version)").argParser(integer(1))),
  )
    .addHelpText("after", examples("tessera shared-secret --key agreement --public-key peer.pem"))
    .action(
      cli.action(async (opts: SharedSecretOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const publicKey = (await readPublicKey(cli.io, opts.publicKey)).toString("base64");
        const result = await client.deriveSharedSecret(opts.key, { keyAgreementAlgorithm: "ECDH", publicKey, ...given("keyVersion", opts.keyVersion) });
        if (out.json) out.data(result);
        else out.line(result.sharedSecret);
      }),
    );
}

/** `--signature`: base64 text, or `@FILE` holding base64 text or the raw signature bytes. */
async function readSignature(io: Io, value: string): Promise<string> {
  if (!value.startsWith("@")) return value.trim();
  const bytes = await readInput(io, value.slice(1));
  const text = bytes.toString("utf8").trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0 ? text : bytes.toString("base64");
}
