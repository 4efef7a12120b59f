/**
 * `tessera encrypt-file` / `decrypt-file`: the SDK's envelope encryption (a data key per file,
 * streamed in constant memory; docs/formats.md "SDK envelope message format") from the command line.
 *
 * A file written with `--out FILE` appears only once complete: the command writes a temporary file
 * beside it and renames it on success, and removes it on failure — so a truncated or tampered input
 * never leaves a partial plaintext under the target name. With `--out -` bytes go to stdout as they
 * are verified, and only exit status 0 confirms the whole input was.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable, Transform, Writable } from "node:stream";
import { isTesseraError } from "@tessera/protocol/core";
import type { MessageInfo } from "@tessera/client";
import { DEFAULT_FRAME_LENGTH, MAX_FRAME_LENGTH } from "@tessera/client/core";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import { nodeCrypto } from "../builtins.js";
import type { Cli } from "../cli.js";
import type { Io } from "../io.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

type Context = Record<string, string>;

/**
 * The SDK's envelope encryption (with `node:crypto` and the stream machinery) is loaded by these two
 * commands when they run, not by every `tessera` call: each call is a process of its own.
 */
const loadEnvelope = () => import("@tessera/client");

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function input(io: Io, path: string): Readable {
  return path === "-" ? io.stdin : createReadStream(path);
}

/**
 * Streams `from` through `transform` into `to` (a file, replaced only on success, with `mode`; or
 * stdout for `-`). Returns the bytes written.
 */
async function run(io: Io, from: string, transform: Transform, to: string, mode: number): Promise<number> {
  const { pipeline } = await import("node:stream/promises");
  const { randomBytes } = nodeCrypto();
  let written = 0;
  transform.on("data", (chunk: Buffer) => (written += chunk.length));
  if (to === "-") {
    await pipeline(input(io, from), transform, io.stdout as Writable, { end: false });
    return written;
  }
  const temporary = join(dirname(to), `.${basename(to)}.${randomBytes(6).toString("hex")}.partial`);
  try {
    await pipeline(input(io, from), transform, createWriteStream(temporary, { mode, flags: "wx" }));
    await rename(temporary, to);
  } catch (err) {
    await rm(temporary, { force: true });
    const e = err as NodeJS.ErrnoException;
    // A file-system failure is named like the other commands name theirs; a TesseraError passes as is.
    if (!isTesseraError(err) && typeof e.syscall === "string") throw new Error(`cannot ${e.syscall} ${e.path ?? to}: ${e.code ?? e.message}`);
    throw err;
  }
  return written;
}

export function registerEnvelopeCommands(program: Command, cli: Cli): void {
  const group = "Cryptographic operations:";

  interface EncryptFileOptions { key: string; context?: Context; frameLength?: number; in: string; out: string }
  withGlobalOptions(
    program
      .command("encrypt-file")
      .helpGroup(group)
      .summary("encrypt a file of any size locally under a fresh data key")
      .description(
        "Envelope-encrypt a file or stream of any size: a fresh data key from the server (GenerateDataKey, with " +
          "the --context entries as encryption context) encrypts it locally in authenticated frames; the output " +
          "holds the key id, the wrapped data key, the context and the frames (docs/formats.md, SDK envelope " +
          "message format). Constant memory. --out FILE appears only once complete.",
      )
      .requiredOption("--key <key>", "name or id of the key that wraps the data key")
      .addOption(contextOption())
      .addOption(new Option("--frame-length <bytes>", `plaintext bytes per frame (default ${DEFAULT_FRAME_LENGTH})`).argParser(integer(1, MAX_FRAME_LENGTH)))
      .requiredOption("--in <file>", "the plaintext ('-' for stdin)")
      .requiredOption("--out <file>", "where to write the message ('-' for stdout)"),
  )
    .addHelpText("after", examples("tessera encrypt-file --key backups --context host=db-1 --in dump.sql --out dump.sql.tsev", "pg_dump app | tessera encrypt-file --key backups --in - --out dump.tsev"))
    .action(
      cli.action(async (opts: EncryptFileOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if (out.json && opts.out === "-") throw new UsageError("--out - and --json cannot be combined");
        const { encryptStream } = await loadEnvelope();
        const transform = encryptStream(client, { keyId: opts.key, ...given("encryptionContext", opts.context), ...given("frameLength", opts.frameLength) });
        const bytes = await run(cli.io, opts.in, transform, opts.out, 0o644);
        if (out.json) out.data({ out: opts.out, bytes });
      }),
    );

  interface DecryptFileOptions { key?: string[]; context?: Context; in: string; out: string }
  withGlobalOptions(
    program
      .command("decrypt-file")
      .helpGroup(group)
      .summary("decrypt a file written by encrypt-file")
      .description(
        "Decrypt a message written by `tessera encrypt-file` (or the SDK's encrypt): the server unwraps its data " +
          "key (Decrypt, with the message's encryption context), then every frame is verified before its bytes " +
          "are written. --out FILE (mode 0600) appears only if the whole message verified; with --out - bytes " +
          "are written as verified and only exit status 0 says the input was complete.",
      )
      .option("--key <key>", "accept only messages whose data key this key wrapped (IncorrectKey otherwise); repeat for more", collect)
      .addOption(contextOption("--context <key=value>", "an entry the message's encryption context must have; repeat for more"))
      .requiredOption("--in <file>", "the message ('-' for stdin)")
      .requiredOption("--out <file>", "where to write the plaintext ('-' for stdout)"),
  )
    .addHelpText("after", examples("tessera decrypt-file --key backups --context host=db-1 --in dump.sql.tsev --out dump.sql"))
    .action(
      cli.action(async (opts: DecryptFileOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if (out.json && opts.out === "-") throw new UsageError("--out - and --json cannot be combined");
        const { decryptStream } = await loadEnvelope();
        const transform = decryptStream(client, { ...given("allowedKeyIds", opts.key), ...given("expectedEncryptionContext", opts.context) });
        let info: MessageInfo | undefined;
        transform.once("header", (i: MessageInfo) => (info = i));
        const bytes = await run(cli.io, opts.in, transform, opts.out, 0o600);
        if (out.json) out.data({ out: opts.out, bytes, keyId: info?.keyId, encryptionContext: info?.encryptionContext });
      }),
    );
}
