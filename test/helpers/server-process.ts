/** Starts the real `bin/tessera server` as a child process on a free loopback port. */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = `${REPO}bin/tessera`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown hooks run. */
  kill9(): Promise<void>;
}

/**
 * Spawns `tessera server <args>` and waits until `GET /v1/sys/health` answers (any status when
 * `ready` is "listening", 200 when "unsealed").
 */
export async function startServer(
  args: string[],
  options: { port?: number; scheme?: "http" | "https"; ready?: "listening" | "unsealed"; env?: NodeJS.ProcessEnv; cwd?: string; readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const finalArgs = args.map((a) => a.replace("{port}", String(port)));
  const proc = spawn(process.execPath, [BIN, "server", ...finalArgs], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"], ...(options.cwd !== undefined && { cwd: options.cwd }) });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const url = `${options.scheme ?? "http"}://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}): ${out}`);
    try {
      if (options.scheme === "https") {
        // TLS servers are checked for a listening socket; callers bring their own CA.
        await new Promise<void>((resolve, reject) => {
          const sock = connect(port, "127.0.0.1", () => {
            sock.destroy();
            resolve();
          });
          sock.once("error", reject);
        });
        break;
      }
      const res = await fetch(`${url}/v1/sys/health`);
      if (options.ready === "listening" || res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`server did not become ready: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      return exited;
    },
    async kill9() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** fetch + JSON with a token. */
export async function api(url: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * The CA file a `--dev-tls` server printed (`export TESSERA_CACERT='…'`), once its banner shows it:
 * the server's certificate is issued by it.
 */
export async function printedDevCa(server: ServerProcess): Promise<string> {
  for (let i = 0; i < 100 && !server.output().includes("TESSERA_CACERT="); i++) await new Promise((r) => setTimeout(r, 100));
  const m = /export TESSERA_CACERT='([^']+)'/.exec(server.output());
  if (m === null) throw new Error(`the --dev-tls server printed no TESSERA_CACERT:\n${server.output()}`);
  return m[1]!;
}
