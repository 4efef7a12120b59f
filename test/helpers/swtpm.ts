/**
 * A real software TPM 2.0 for tests: Debian's `swtpm` on two loopback ports with its own state
 * directory, reached by tpm2-tools through the `swtpm:` TCTI. Each instance is a different TPM
 * (its own seeds), which is what "the disk was copied to another machine" looks like.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:net";
import { freePort } from "./server-process.js";

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

export interface SoftTpm {
  /** TPM2TOOLS_TCTI for this instance. */
  tcti: string;
  stop(): Promise<void>;
}

const present = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/** Why TPM tests cannot run here, or undefined when swtpm and tpm2-tools are installed. */
export const swtpmMissing: string | undefined = ["swtpm", "tpm2_createprimary", "tpm2_unseal"].every(present)
  ? undefined
  : "swtpm and tpm2-tools are not installed (apt-get install swtpm swtpm-tools tpm2-tools; npm test installs them)";

export async function startSwtpm(): Promise<SoftTpm> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-swtpm-"));
  // The swtpm TCTI finds the control channel on the next port: two free ports in a row.
  let port = await freePort();
  while (!(await isFree(port + 1))) port = await freePort();
  const ctrl = port + 1;
  const proc: ChildProcess = spawn(
    "swtpm",
    ["socket", "--tpm2", "--server", `type=tcp,port=${port},bindaddr=127.0.0.1`, "--ctrl", `type=tcp,port=${ctrl},bindaddr=127.0.0.1`, "--tpmstate", `dir=${dir}`, "--flags", "startup-clear"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`swtpm exited: ${err}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`swtpm did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    tcti: `swtpm:host=127.0.0.1,port=${port}`,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
