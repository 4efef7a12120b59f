/** Runs the programs in examples/ as their users would: plain `node` processes, nothing of Tessera's imported. */
import { spawn } from "node:child_process";
import { REPO } from "./server-process.js";

export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node examples/<script> ...args` in the repository, with stdin from `input`. */
export function runExample(script: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${REPO}examples/${script}`, ...args], { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A running example (a server) and a way to stop it. */
export function startExample(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [`${REPO}examples/${script}`, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first stdout line matching `pattern`, or rejects when the process exits first. */
    async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(stdout);
        if (m !== null) return m;
        if (child.exitCode !== null) throw new Error(`${script} exited (${child.exitCode}): ${stderr}`);
        if (Date.now() > deadline) throw new Error(`${script} printed no ${pattern}: ${stdout} ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(): Promise<number | null> {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    exited,
  };
}
