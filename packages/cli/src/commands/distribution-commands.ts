/**
 * Key distribution (docs/distribution.md): `tessera key export` (wrapped export to a public key) and
 * `tessera psk` (a pre-shared key two VMs share). Nothing here prints key material in the clear
 * except the PSK, which is the caller's own key for its own channel.
 */
import { writeFile } from "node:fs/promises";
import { exportAlgorithms, importWrappingAlgorithms, importWrappingKeySpecs } from "@tessera/protocol/core";
import type { ExportAlgorithm, ExportWrappedRequest, ImportWrappingAlgorithm, ImportWrappingKeySpec } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { collectPair, integer } from "../args.js";
import { nodeCrypto } from "../builtins.js";
import type { Cli } from "../cli.js";
import { readInput } from "../io.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { printKey } from "./key-output.js";
import { UsageError } from "../usage-error.js";

/**
 * The recipient's public key as the API takes it: a PEM PUBLIC KEY block as given (X-Wing keys
 * included, which node:crypto cannot read), or the public key of a PEM certificate.
 */
export function recipientPublicKeyPem(text: string): string {
  if (text.includes("-----BEGIN CERTIFICATE-----")) {
    try {
      return new (nodeCrypto().X509Certificate)(text).publicKey.export({ type: "spki", format: "pem" }).toString();
    } catch {
      throw new UsageError("--wrap-to holds a certificate that cannot be read");
    }
  }
  const m = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(text);
  if (m === null) throw new UsageError("--wrap-to must be a PEM file with a PUBLIC KEY or a CERTIFICATE");
  return m[0] + "\n";
}

export function registerDistributionCommands(program: Command, cli: Cli): void {
  const keys = program.commands.find((c) => c.name() === "key");
  if (keys === undefined) throw new Error("the key command must be registered first");

  interface ExportOptions { wrapTo: string; algorithm: ExportAlgorithm; version?: number; dataKey?: boolean; derive?: Record<string, string>; context?: Record<string, string>; length?: number }
  withGlobalOptions(
    keys
      .command("export")
      .summary("export key material, a data key or a derived key, encrypted to a public key")
      .description(
        "Export a version's material (keys created --exportable), a fresh data key (--data-key; also returned " +
          "encrypted under the key, for decrypt later) or a key derived for a context (--derive), encrypted to " +
          "the public key in --wrap-to (a PEM public key or certificate). Nothing is returned in plaintext: the " +
          "answer names the key, version, algorithm, encapsulated key, wrapped key, and the exact info and aad " +
          "the recipient opens it with (docs/distribution.md). Needs kms:ExportWrapped, which wildcards do not grant.",
      )
      .argument("<key>", "key name or id")
      .requiredOption("--wrap-to <file>", "PEM public key (or certificate) of the recipient")
      .addOption(new Option("--algorithm <alg>", "how to encrypt to the recipient").choices(exportAlgorithms).makeOptionMandatory())
      .addOption(new Option("--version <n>", "key version (default: the primary version)").argParser(integer(1)).conflicts("dataKey"))
      .addOption(new Option("--data-key", "export a fresh data key instead of the key's material").conflicts("derive"))
      .addOption(new Option("--derive <key=value>", "export the key derived for this context; repeat for more").argParser(collectPair))
      .addOption(contextOption("--context <key=value>", "with --data-key: encryption context of the data key's ciphertext; repeat for more").conflicts("derive"))
      .addOption(new Option("--length <bytes>", "with --data-key or --derive: length in bytes (16-64, default 32)").argParser(integer(16, 64))),
  )
    .addHelpText(
      "after",
      examples(
        "tessera key export app-key --wrap-to vm.pub.pem --algorithm hpke-x25519 --json",
        "tessera key export vm-keys --derive vm=web-7 --wrap-to web-7.crt --algorithm hpke-p256 --json",
        "tessera key export payment-db --data-key --wrap-to hsm.pub.pem --algorithm rsa-oaep-aes-kwp --json",
      ),
    )
    .action(
      cli.action(async (key: string, opts: ExportOptions, cmd: Command) => {
        if (opts.context !== undefined && opts.dataKey !== true) throw new UsageError("--context goes with --data-key (for --derive, give the context there)");
        if (opts.length !== undefined && opts.dataKey !== true && opts.derive === undefined) throw new UsageError("--length goes with --data-key or --derive");
        const { client, out } = cli.connect(cmd);
        const recipientPublicKey = recipientPublicKeyPem((await readInput(cli.io, opts.wrapTo)).toString("utf8"));
        const request: ExportWrappedRequest = {
          recipientPublicKey,
          algorithm: opts.algorithm,
          export: opts.dataKey === true ? "data-key" : opts.derive !== undefined ? "derived-key" : "key-material",
          ...given("keyVersion", opts.version),
          ...given("context", opts.derive ?? opts.context),
          ...given("length", opts.length),
        };
        const result = await client.exportWrapped(key, request);
        if (out.json) return out.data(result);
        out.fields([
          ["keyId", result.keyId],
          ["keyVersion", result.keyVersion],
          ["algorithm", result.algorithm],
          ["export", result.export],
          ["recipientSpkiSha256", result.recipientSpkiSha256],
          ["encapsulatedKey", result.encapsulatedKey],
          ["wrappedKey", result.wrappedKey],
          ["info", result.info],
          ["aad", result.aad],
          ["ciphertext", result.ciphertext],
        ]);
      }),
    );

  interface PskOptions { key: string; peer: string; purpose?: string; version?: number }
  withGlobalOptions(
    program
      .command("psk")
      .helpGroup("Cryptographic operations:")
      .summary("a pre-shared key this VM shares with another VM")
      .description(
        "Print the pre-shared key (base64) this VM shares with --peer under a key and a purpose, for TLS-PSK " +
          "between the two. Both VMs get the same key: it is derived from the key and both VM ids (sorted) and " +
          "the purpose. The caller's own id comes from its login (a VM identity), so a VM only gets keys it is " +
          "a party to. --json adds the key version and a TLS PSK identity for the client side to send.",
      )
      .requiredOption("--key <key>", "name or id of the key to derive from")
      .requiredOption("--peer <vm-id>", "the other VM's id")
      .option("--purpose <purpose>", 'what the key is for (default "tls")')
      .addOption(new Option("--version <n>", "key version (default: the primary version)").argParser(integer(1))),
  )
    .addHelpText("after", examples("tessera psk --key mesh --peer db-1 --json", "tessera psk --key mesh --peer web-7 --purpose replication --version 3"))
    .action(
      cli.action(async (opts: PskOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.pairwisePsk(opts.key, { peer: opts.peer, ...given("purpose", opts.purpose), ...given("keyVersion", opts.version) });
        if (out.json) out.data(result);
        else out.line(result.psk);
      }),
    );

  interface ParamsOptions { algorithm: ImportWrappingAlgorithm; spec?: ImportWrappingKeySpec; publicKeyOut?: string; tokenOut?: string }
  withGlobalOptions(
    keys
      .command("import-params")
      .summary("get a one-time wrapping key and import token for BYOK")
      .description(
        "For a key created with --origin external: a one-time RSA wrapping key and an import token (single " +
          "use, valid 24 hours, on this server only). Wrap your key material to the public key with " +
          "--algorithm and import it with `tessera key import` (docs/distribution.md shows the openssl commands).",
      )
      .argument("<key>", "key name or id")
      .addOption(new Option("--algorithm <alg>", "how the material will be wrapped").choices(importWrappingAlgorithms).makeOptionMandatory())
      .addOption(new Option("--spec <spec>", "wrapping key size (default RSA_4096)").choices(importWrappingKeySpecs))
      .option("--public-key-out <file>", "write the wrapping public key there as PEM")
      .option("--token-out <file>", "write the import token there (raw bytes, mode 0600)"),
  )
    .addHelpText(
      "after",
      examples("tessera key import-params byok-1 --algorithm RSA_AES_KEY_WRAP_SHA_256 --public-key-out wrapping.pem --token-out token.bin"),
    )
    .action(
      cli.action(async (key: string, opts: ParamsOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.getParametersForImport(key, { wrappingAlgorithm: opts.algorithm, ...given("wrappingKeySpec", opts.spec) });
        const pem = nodeCrypto().createPublicKey({ key: Buffer.from(r.publicKey, "base64"), format: "der", type: "spki" }).export({ type: "spki", format: "pem" }).toString();
        if (opts.publicKeyOut !== undefined) await writeFile(opts.publicKeyOut, pem);
        if (opts.tokenOut !== undefined) await writeFile(opts.tokenOut, Buffer.from(r.importToken, "base64"), { mode: 0o600 });
        if (out.json) return out.data(r);
        out.fields([
          ["keyId", r.keyId],
          ["wrappingAlgorithm", r.wrappingAlgorithm],
          ["wrappingKeySpec", r.wrappingKeySpec],
          ["parametersValidTo", r.parametersValidTo],
          ["importToken", opts.tokenOut === undefined ? r.importToken : undefined],
        ]);
        if (opts.publicKeyOut === undefined) out.line(pem.trimEnd());
      }),
    );

  interface ImportOptions { importToken: string; material: string }
  withGlobalOptions(
    keys
      .command("import")
      .summary("import wrapped key material (BYOK)")
      .description(
        "Import key material wrapped to the key's import parameters: the first import makes version 1 and " +
          "enables the key; each later import is a new primary version (imported keys rotate this way only). " +
          "--material is the wrapped bytes as written by openssl (raw, not base64).",
      )
      .argument("<key>", "key name or id")
      .requiredOption("--import-token <file>", "the import token (raw bytes, as --token-out wrote it)")
      .requiredOption("--material <file>", "the wrapped key material (raw bytes)"),
  )
    .addHelpText("after", examples("tessera key import byok-1 --import-token token.bin --material material.wrapped"))
    .action(
      cli.action(async (key: string, opts: ImportOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const importToken = (await readInput(cli.io, opts.importToken)).toString("base64");
        const encryptedKeyMaterial = (await readInput(cli.io, opts.material)).toString("base64");
        const result = await client.importKeyMaterial(key, { importToken, encryptedKeyMaterial });
        if (out.json) out.data(result);
        else printKey(out, result);
      }),
    );

  withGlobalOptions(
    keys
      .command("delete-imported-material")
      .summary("delete a key's imported material (BYOK)")
      .description(
        "Erase every version's imported material (its ciphertexts no longer decrypt) and return the key to " +
          "PendingImport; importing again makes a new version.",
      )
      .argument("<key>", "key name or id"),
  )
    .addHelpText("after", examples("tessera key delete-imported-material byok-1"))
    .action(
      cli.action(async (key: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.deleteImportedKeyMaterial(key);
        if (out.json) out.data(result);
        else printKey(out, result);
      }),
    );
}
