/**
 * Shared by the API benchmarks (bench/export.mjs, bench/sign-api.mjs, bench/envelope.mjs): a Tessera dev server in its own
 * process (bench/tessera-server.mjs) with a fixed root token, JSON calls to it, and autocannon load
 * whose every socket error, timeout or non-2xx answer fails the run.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** A free loopback port (the OS picks one; it is released before the caller listens on it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a dev server and waits until it is healthy. Returns `call` (one JSON POST, checked against the
 * expected status), `load` (autocannon for `duration` seconds: {opsPerSecond, p50, p99}), `stop`, and
 * the server's `url` and `rootToken` (for benchmarks that use the SDK).
 */
/**
 * `execArgv`: node flags instead of the ones `tessera` runs with; `onStdout`: receives the server
 * process's stdout (where `--trace-gc` writes), otherwise ignored.
 */
export async function startTessera({ connections, execArgv = TESSERA_NODE_FLAGS, onStdout }) {
  const rootToken = `tsr_bench_${randomBytes(16).toString("hex")}`;
  const port = await freePort();
  const server = fork(join(here, "tessera-server.mjs"), [], {
    execArgv,
    env: { ...process.env, BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_ROOT_TOKEN: rootToken },
    stdio: ["ignore", onStdout === undefined ? "ignore" : "pipe", "ignore", "ipc"],
  });
  if (onStdout !== undefined) server.stdout.on("data", onStdout);
  const url = `http://127.0.0.1:${port}`;
  const headers = { "content-type": "application/json", "x-tessera-token": rootToken };
  const stop = () => server.kill("SIGTERM");
  try {
    for (let deadline = Date.now() + 30_000; ; ) {
      try {
        if ((await fetch(`${url}/v1/sys/health`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error("tessera did not become healthy");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    stop();
    throw err;
  }

  async function call(path, body, expect = 200) {
    const res = await fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
    if (res.status !== expect) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** `extraHeaders` are added to (or replace) the JSON and token headers (the Vault API's X-Vault-Token). */
  function load(path, body, duration, extraHeaders = {}) {
    return new Promise((resolve, reject) => {
      autocannon({ url: url + path, method: "POST", connections, duration, headers: { ...headers, ...extraHeaders }, body: JSON.stringify(body) }, (err, r) => {
        if (err) return reject(err);
        if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) return reject(new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`));
        resolve({ opsPerSecond: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total });
      });
    });
  }

  return { call, load, stop, url, rootToken, pid: server.pid };
}
