/**
 * A real server with `workers: 2` (SQLite file, plain HTTP on loopback) for tests that need calls to
 * land on both workers: initialised with 3 shares (threshold 2) and unsealed. Which worker served a
 * call is read from the workers' own audit trails (`audit-w1.jsonl`, `audit-w2.jsonl`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeLines } from "./audit-records.js";
import { answering, fresh } from "./fresh-http.js";
import { freePort, startServer, type ServerProcess } from "./server-process.js";

export const WORKERS = ["w1", "w2"];

export interface WorkersServer {
  dir: string;
  server: ServerProcess;
  url: string;
  rootToken: string;
  /** The unseal shares it was initialised with. */
  shares: string[];
  /** Records of `action` in each worker's trail. */
  counts(action: string): Record<string, number>;
  /** The worker processes' pids (children of the primary). */
  pids(): number[];
  /** Until both workers answer seal-status again after `killed` (a worker's pid) was killed and restarted. */
  bothBack(killed: number): Promise<Map<string, boolean>>;
  stop(): Promise<void>;
}

export async function startWorkersServer(prefix: string): Promise<WorkersServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, "data"));
  const config = join(dir, "tessera.json");
  const port = await freePort();
  writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage: { sqlite: { path: join(dir, "data", "tessera.db") } }, workers: 2, log_level: "warn" }));
  const server = await startServer(["--config", config], { port, ready: "listening", readyTimeoutMs: 60_000 });
  const url = server.url;
  for (let i = 0; i < 100 && (await answering(url, 2)).size < 2; i++) await new Promise((r) => setTimeout(r, 200));
  const init = await fresh(url, "POST", "/v1/sys/init", { shares: 3, threshold: 2 });
  const shares: string[] = init.body.shares;
  await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0] });
  await fresh(url, "POST", "/v1/sys/unseal", { share: shares[1] });
  const pids = () => execFileSync("ps", ["-o", "pid=", "--ppid", String(server.proc.pid)], { encoding: "utf8" }).split("\n").map((l) => Number(l.trim())).filter((p) => p > 0);
  return {
    dir,
    server,
    url,
    rootToken: init.body.rootToken,
    shares,
    counts(action) {
      const out: Record<string, number> = {};
      for (const w of WORKERS) {
        const path = join(dir, "data", "audit", `audit-${w}.jsonl`);
        out[w] = existsSync(path) ? decodeLines(readFileSync(path, "utf8").split("\n")).filter((r) => r.action === action).length : 0;
      }
      return out;
    },
    pids,
    async bothBack(killed) {
      let both = new Map<string, boolean>();
      for (let i = 0; i < 150 && both.size < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        if (!pids().includes(killed)) both = await answering(url, 4).catch(() => new Map());
      }
      return both;
    },
    async stop() {
      await server.kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probes until a connection lands on the worker other than `w`: round-robin hands the next one to `w`. */
export async function steerTo(url: string, w: string): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await fresh(url, "GET", "/v1/sys/seal-status")).body.node !== w) return;
  throw new Error(`no connection reached a worker other than ${w}`);
}
