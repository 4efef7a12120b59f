/**
 * Sealing a small secret to the VM's TPM 2.0 with tpm2-tools (no native module: child processes).
 *
 * Seal: a primary key is derived from the owner hierarchy's seed (the same TPM always derives the
 * same one), and the secret becomes a sealed-data object under it; only its public part and its
 * TPM-wrapped private part are written to disk. Unseal loads them under the same primary and reads
 * the secret back on stdout. Another TPM derives another primary, so the files are useless on any
 * other machine (the TPM answers "integrity check failed"). With `pcrs` the object's policy also
 * requires the PCRs to hold the values they had when it was sealed (boot state).
 *
 * The secret travels through pipes only. Context files (handles of loaded objects, not secrets) are
 * written to a private temporary directory that is removed afterwards, and transient objects are
 * flushed after each step, so this also works against a TPM reached without a resource manager.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";

export interface TpmOptions {
  /** tpm2-tools' TCTI (`device:/dev/tpmrm0`, `swtpm:host=…,port=…`); the tools' default when undefined. */
  tcti: string | undefined;
  /** e.g. `sha256:0,7`: bind the seal to these PCRs' current values. */
  pcrs: string | undefined;
}

/** A tpm2-tools failure; `refused` when the TPM would not unseal (another TPM, changed PCRs). */
export class TpmError extends Error {
  readonly refused: boolean;
  constructor(message: string, refused: boolean) {
    super(message);
    this.name = "TpmError";
    this.refused = refused;
  }
}

function run(tool: string, args: string[], options: TpmOptions, input?: Uint8Array): Promise<Buffer> {
  const env = { ...process.env, ...(options.tcti !== undefined && { TPM2TOOLS_TCTI: options.tcti }) };
  return new Promise((resolve, reject) => {
    // A TPM answers in milliseconds; one that does not answer in 30 s is not coming back.
    const child = spawn(tool, args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: 30_000 });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) =>
      reject((e as NodeJS.ErrnoException).code === "ENOENT" ? new TpmError(`${tool} not found: install tpm2-tools`, false) : e),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const refused = /integrity check failed|policy fail|PCR|0x1df|0x99d|0x98e/i.test(err);
      const last = err.trim().split("\n").filter((l) => l.startsWith("ERROR")).pop() ?? err.trim().split("\n").pop() ?? "";
      reject(new TpmError(`${tool} failed (exit ${code}): ${last}`, refused));
    });
    child.stdin.end(input);
  });
}

/** Flushes transient objects and sessions; harmless under the kernel's resource manager. */
async function flush(options: TpmOptions): Promise<void> {
  await run("tpm2_flushcontext", ["-t"], options).catch(() => undefined);
  await run("tpm2_flushcontext", ["-s"], options).catch(() => undefined);
}

async function withWorkDir<T>(stateDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(stateDir, ".tpm-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function primary(dir: string, options: TpmOptions): Promise<string> {
  const ctx = join(dir, "primary.ctx");
  await flush(options);
  await run("tpm2_createprimary", ["-Q", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", ctx], options);
  await flush(options);
  return ctx;
}

/** Seals `secret` (at most 128 bytes) into `pubFile`/`privFile`. */
export async function tpmSeal(secret: Uint8Array, pubFile: string, privFile: string, stateDir: string, options: TpmOptions): Promise<void> {
  if (secret.length > 128) throw new TpmError("a sealed object holds at most 128 bytes", false);
  await withWorkDir(stateDir, async (dir) => {
    const parent = await primary(dir, options);
    const policy: string[] = [];
    if (options.pcrs !== undefined) {
      const file = join(dir, "policy.dat");
      await run("tpm2_createpolicy", ["-Q", "--policy-pcr", "-l", options.pcrs, "-L", file], options);
      await flush(options);
      policy.push("-L", file);
    }
    await run("tpm2_create", ["-Q", "-C", parent, "-i", "-", "-u", pubFile, "-r", privFile, ...policy], options, secret);
    await flush(options);
  });
}

/** The secret sealed in `pubFile`/`privFile`; a {@link TpmError} with `refused` on another TPM or changed PCRs. */
export async function tpmUnseal(pubFile: string, privFile: string, stateDir: string, options: TpmOptions): Promise<Buffer> {
  return withWorkDir(stateDir, async (dir) => {
    const parent = await primary(dir, options);
    const obj = join(dir, "sealed.ctx");
    try {
      await run("tpm2_load", ["-Q", "-C", parent, "-u", pubFile, "-r", privFile, "-c", obj], options);
      await flush(options);
      return await run("tpm2_unseal", ["-c", obj, ...(options.pcrs !== undefined ? ["-p", `pcr:${options.pcrs}`] : [])], options);
    } finally {
      await flush(options);
    }
  });
}

/** Whether tpm2-tools are installed (`tpm2_createprimary -v` runs). */
export function tpmToolsPresent(): Promise<boolean> {
  return new Promise((resolve) => execFile("tpm2_createprimary", ["-v"], (err) => resolve(err === null)));
}
