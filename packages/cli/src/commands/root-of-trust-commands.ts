/**
 * `tessera operator rekey | generate-root | rotate-root | backup | restore` (docs/operations.md).
 * Shares are typed without echo at a terminal, one per prompt, or read one per line from stdin.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { TesseraClient } from "@tessera/client";
import { TesseraError } from "@tessera/protocol/core";
import type { GenerateRootStatus, RekeyStatus } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readSecret, readStdin, type Io } from "../io.js";
import type { Output } from "../output.js";
import { examples, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

/** `count` shares: prompted one by one at a terminal, else the non-empty lines of stdin. */
export async function readShares(io: Io, count: number, what: string): Promise<string[]> {
  if (io.stdin.isTTY === true && io.stdin.setRawMode !== undefined) {
    const shares: string[] = [];
    for (let i = 1; i <= count; i++) shares.push(await readSecret(io, `${what} ${i} of ${count} (not shown): `));
    return shares;
  }
  const lines = (await readStdin(io)).toString("utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length < count) throw new UsageError(`${count} ${what.toLowerCase()}s are needed, one per line on stdin; got ${lines.length}`);
  return lines.slice(0, count);
}

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ (b[i] ?? 0)));

/** Progress for the person at the terminal (stderr); none under --json, whose stderr is the error body. */
function progressLine(out: Output, text: string): void {
  if (!out.json) out.note(text);
}

export function registerRootOfTrustCommands(operator: Command, cli: Cli): void {
  withGlobalOptions(
    operator
      .command("rekey")
      .summary("new unseal (or recovery) shares from a quorum of the current ones")
      .description(
        "Replace the unseal shares (the recovery shares with an HSM seal) by --shares new shares, any --threshold of " +
          "which unseal. A quorum of the current shares is needed; once it is in, the old shares stop working and the new " +
          "ones are printed this once only. Needs a token allowed sys:Rekey.",
      )
      .addOption(new Option("--shares <n>", "number of new shares (1-255)").argParser(integer(1, 255)))
      .addOption(new Option("--threshold <k>", "new shares needed to unseal").argParser(integer(1, 255)))
      .option("--nonce <nonce>", "add shares to the rekey already started with this nonce")
      .option("--cancel", "cancel the rekey in progress")
      .option("--status", "show the rekey in progress"),
  )
    .addHelpText("after", examples("tessera operator rekey --shares 5 --threshold 3", "tessera operator rekey --cancel"))
    .action(
      cli.action(async (opts: { shares?: number; threshold?: number; nonce?: string; cancel?: boolean; status?: boolean }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if (opts.cancel === true) return show(out, await client.rekeyCancel());
        if (opts.status === true) return show(out, await client.rekeyStatus());
        let status: RekeyStatus;
        if (opts.nonce !== undefined) status = await client.rekeyStatus();
        else {
          if (opts.shares === undefined || opts.threshold === undefined) throw new UsageError("give --shares and --threshold (or --nonce, --cancel, --status)");
          if (opts.threshold > opts.shares) throw new UsageError("--threshold cannot be greater than --shares");
          status = await client.rekeyInit({ shares: opts.shares, threshold: opts.threshold });
        }
        const nonce = opts.nonce ?? status.nonce!;
        const shares = await readShares(cli.io, status.required - status.progress, "Current share");
        for (const share of shares) {
          status = await client.rekeyUpdate({ nonce, share });
          if (status.complete) break;
        }
        if (out.json) return out.data(status);
        if (!status.complete) return show(out, status);
        status.shares!.forEach((s, i) => out.line(`New Share ${i + 1}: ${s}`));
        out.line();
        out.line(`Rekeyed: any ${status.newThreshold} of these ${status.newShares} shares unseal from now on; the old shares no longer do.`);
        out.line("They are shown only now. Give each to a different person (docs/operations.md, custody of shares).");
      }),
    );

  withGlobalOptions(
    operator
      .command("generate-root")
      .summary("a new root token from a quorum of shares")
      .description(
        "Make a new root token from a quorum of the unseal shares (recovery shares with an HSM seal), as `vault operator " +
          "generate-root`: no token needed. Run without options it starts, reads the shares and prints the token. To " +
          "collect shares from people elsewhere: --init prints a nonce and a one-time pad (OTP); each holder runs " +
          "--nonce N with their share; the last answer holds an encoded token that --decode with --otp turns into the token.",
      )
      .option("--init", "start, and print the nonce and the OTP")
      .option("--nonce <nonce>", "submit shares to the generation started with this nonce")
      .option("--cancel", "cancel the generation in progress")
      .option("--status", "show the generation in progress")
      .option("--decode <encoded>", "decode an encoded token (with --otp)")
      .option("--otp <otp>", "the one-time pad --init printed"),
  )
    .addHelpText("after", examples("tessera operator generate-root", "tessera operator generate-root --decode ENCODED --otp OTP"))
    .action(
      cli.action(async (opts: { init?: boolean; nonce?: string; cancel?: boolean; status?: boolean; decode?: string; otp?: string }, cmd: Command) => {
        const out = cli.output(cmd);
        if (opts.decode !== undefined) {
          if (opts.otp === undefined) throw new UsageError("--decode needs --otp");
          const token = xor(Buffer.from(opts.decode, "base64"), Buffer.from(opts.otp, "base64")).toString("utf8");
          return out.json ? out.data({ token }) : out.line(`Root Token: ${token}`);
        }
        const { client } = cli.connect(cmd);
        if (opts.cancel === true) return showRoot(out, await client.generateRootCancel());
        if (opts.status === true) return showRoot(out, await client.generateRootStatus());
        let otp: string | undefined;
        let status: GenerateRootStatus;
        if (opts.nonce === undefined) {
          status = await client.generateRootInit();
          otp = status.otp;
          if (opts.init === true) return out.json ? out.data(status) : out.fields([["Nonce", status.nonce], ["OTP", otp], ["Required", status.required]]);
        } else status = await client.generateRootStatus();
        const nonce = opts.nonce ?? status.nonce!;
        for (const share of await readShares(cli.io, status.required - status.progress, "Share")) {
          status = await client.generateRootUpdate({ nonce, share });
          if (status.complete) break;
        }
        if (!status.complete || status.encodedToken === undefined) return showRoot(out, status);
        if (otp === undefined) return out.json ? out.data(status) : out.line(`Encoded Token: ${status.encodedToken}  (decode it with --decode and the OTP from --init)`);
        const token = xor(Buffer.from(status.encodedToken, "base64"), Buffer.from(otp, "base64")).toString("utf8");
        if (out.json) return out.data({ token });
        out.line(`Root Token: ${token}`);
        out.note("Keep it offline, and revoke it once the work that needed it is done (tessera token revoke).");
      }, { credential: "other" }),
    );

  withGlobalOptions(
    operator
      .command("rotate-root")
      .summary("a new root key; everything re-sealed under it")
      .description(
        "Make a new root key and re-seal every stored secret (key versions, the CA key, access-key secrets, the audit " +
          "keys) under it, in batches, showing progress. Resumable: a crash at any point leaves every key usable, and the " +
          "rotation finishes after the next unseal. Shares are unchanged. Needs a token allowed sys:RotateRoot.",
      ),
  )
    .addHelpText("after", examples("tessera operator rotate-root"))
    .action(
      cli.action(async (_opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const watch = setInterval(() => {
          void client
            .rotateRootStatus()
            .then((s) => {
              if (s.state !== "idle") progressLine(out, `rotate-root: ${s.state}, ${s.scanned} of ${s.total} records checked, ${s.resealed} re-sealed`);
            })
            .catch(() => undefined);
        }, 1000);
        try {
          const done = await client.rotateRoot();
          if (out.json) return out.data(done);
          out.line(`Root rotated: now ${done.rootId}; ${done.resealed} records re-sealed.`);
        } finally {
          clearInterval(watch);
        }
      }),
    );

  withGlobalOptions(
    operator
      .command("backup")
      .summary("write an encrypted backup of all state")
      .description(
        "Write a consistent snapshot of all state to FILE while the server keeps serving: keys stay sealed, and the file " +
          "is encrypted and authenticated under a key only the root of trust (the shares, or the HSM) recovers. Needs a " +
          "token allowed sys:Backup.",
      )
      .requiredOption("--out <file>", "where to write the backup (created 0600)"),
  )
    .addHelpText("after", examples("tessera operator backup --out tessera-$(date +%F).tsbk"))
    .action(
      cli.action(async (opts: { out: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd, {}, { streamed: true });
        let last = 0;
        const { bytes, rows } = await client.backup((received) => {
          if (received - last >= 8 * 1024 * 1024) {
            last = received;
            progressLine(out, `backup: ${(received / 1048576).toFixed(0)} MiB received`);
          }
        });
        await writeFile(opts.out, bytes, { mode: 0o600 });
        const header = readHeader(bytes);
        if (out.json) return out.data({ file: opts.out, bytes: bytes.length, rows, backupId: header.backupId, createdAt: header.createdAt, sealType: header.seal.type });
        out.line(`Backup ${header.backupId} written to ${opts.out}: ${rows} rows, ${bytes.length} bytes, restorable with the ${header.seal.type} root of trust.`);
      }),
    );

  withGlobalOptions(
    operator
      .command("restore")
      .summary("restore an encrypted backup into this node")
      .description(
        "Replace this node's state with a backup's. Into an uninitialised node no token is needed: the backup and its " +
          "root of trust are the credential — a quorum of the backup's unseal shares (read like `rekey` reads them), or, " +
          "for a backup sealed with an HSM, this node's HSM. An initialised node is refused unless --force is given with " +
          "a token allowed sys:Restore. A damaged or altered file, or the wrong shares or HSM, are refused and change nothing.",
      )
      .requiredOption("--in <file>", "the backup file")
      .option("--force", "replace the state of an initialised node")
      .option("--recovery-shares", "open an HSM-sealed backup with a quorum of its recovery shares instead of the HSM"),
  )
    .addHelpText("after", examples("tessera operator restore --in tessera-2026-01-05.tsbk", "tessera operator restore --in backup.tsbk --force"))
    .action(
      cli.action(
        async (opts: { in: string; force?: boolean; recoveryShares?: boolean }, cmd: Command) => {
          const { client, out } = cli.connect(cmd);
          let file: Buffer;
          try {
            file = await readFile(opts.in);
          } catch (err) {
            throw new UsageError(`cannot read ${opts.in}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
          const header = readHeader(file);
          const seal = header.seal as { type: string; escrow?: { threshold: number }; threshold?: number };
          const threshold = seal.escrow?.threshold ?? seal.threshold ?? 1;
          const needShares = seal.type !== "pkcs11" || opts.recoveryShares === true;
          const shares = needShares ? await readShares(cli.io, threshold, seal.type === "pkcs11" ? "Recovery share" : "Unseal share") : undefined;
          progressLine(out, `restore: sending ${file.length} bytes (${header.rows} rows, backup ${header.backupId} of ${header.createdAt})`);
          const result = await client.restore(file, { ...(shares && { shares }), ...(opts.force === true && { force: true }) });
          if (out.json) return out.data(result);
          out.line(`Restored backup ${result.backupId} (${result.createdAt}): ${result.rows} rows; the node is ${result.sealed ? "sealed" : "unsealed"} (${result.sealType} seal).`);
        },
        { credential: "other" },
      ),
    );
}

function show(out: Output, s: RekeyStatus): void {
  if (out.json) return out.data(s);
  out.fields([["Started", s.started], ["Nonce", s.nonce], ["Progress", s.started ? `${s.progress}/${s.required}` : undefined], ["New Shares", s.newShares], ["New Threshold", s.newThreshold]]);
}

function showRoot(out: Output, s: GenerateRootStatus): void {
  if (out.json) return out.data(s);
  out.fields([["Started", s.started], ["Nonce", s.nonce], ["Progress", s.started ? `${s.progress}/${s.required}` : undefined], ["Complete", s.complete]]);
}

/** The readable header of a backup file (format/backup-file.ts on the server). */
function readHeader(file: Buffer): { backupId: string; createdAt: string; rows: number; seal: { type: string; [k: string]: unknown } } {
  if (file.length < 9 || file.subarray(0, 4).toString("latin1") !== "TSBK") throw new TesseraError("InvalidInput", "not a Tessera backup file");
  const length = file.readUInt32BE(5);
  try {
    return JSON.parse(file.subarray(9, 9 + length).toString("utf8"));
  } catch {
    throw new TesseraError("InvalidInput", "the backup file's header is damaged");
  }
}

export type { TesseraClient };
