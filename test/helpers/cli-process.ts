/** Runs the real `bin/tessera` as a subprocess, as a user's shell would. */
import { spawn } from "node:child_process";
import { BIN, REPO } from "./server-process.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** TESSERA_ADDR. */
  address: string;
  /** TESSERA_TOKEN; omitted (unset) when undefined. */
  token?: string | undefined;
  /** Piped to stdin (empty when omitted). */
  input?: string;
  /** More environment (after TESSERA_* are set; a value of undefined unsets). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** `tessera ...args` with only the TESSERA_* variables the options give (inherited ones are dropped). */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: options.address };
  for (const name of ["TESSERA_TOKEN", "TESSERA_CACERT"]) delete env[name];
  if (options.token !== undefined) env["TESSERA_TOKEN"] = options.token;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
