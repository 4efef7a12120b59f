/**
 * Tessera with several workers for bench/run.mjs (BENCH_WORKERS): a production-mode server (a
 * configuration file in a temporary directory: SQLite, the default durable audit file per worker,
 * `workers` = BENCH_WORKERS) that this script's primary process initialises (one share) and
 * unseals, then reports the root token to the parent over IPC as `{ rootToken }`.
 *
 * node:cluster re-runs this file in each worker; there it only runs the server. Reads BENCH_LISTEN
 * and BENCH_WORKERS. Stops cleanly (final checkpoints, temporary state deleted) on SIGTERM.
 */
import cluster from "node:cluster";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServer } from "../packages/server/dist/index.js";

const listen = process.env.BENCH_LISTEN;
const workers = Number(process.env.BENCH_WORKERS);
if (!listen || !(workers >= 1)) throw new Error("BENCH_LISTEN and BENCH_WORKERS are required");

if (cluster.isWorker) {
  await runServer({ dev: false, config: process.env.BENCH_CONFIG });
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-workers-"));
mkdirSync(join(dir, "data"), { mode: 0o700 });
const config = join(dir, "tessera.json");
writeFileSync(config, JSON.stringify({ listener: { address: listen, insecure_http: true }, storage: { sqlite: { path: join(dir, "data", "tessera.db") } }, workers, log_level: "warn", ...(process.env.BENCH_AUDIT_DURABILITY && { audit: { durability: process.env.BENCH_AUDIT_DURABILITY } }) }));
process.env.BENCH_CONFIG = config;

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => (stopping = true));
process.once("disconnect", () => {
  if (!stopping) process.kill(process.pid, "SIGTERM");
});

const running = runServer({ dev: false, config }).finally(() => rmSync(dir, { recursive: true, force: true }));
const url = `http://${listen}`;
const post = async (path, body) => {
  const res = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
for (const deadline = Date.now() + 60_000; ; ) {
  try {
    await fetch(`${url}/v1/sys/health`);
    break;
  } catch {
    if (Date.now() > deadline) throw new Error("the workers did not start listening within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}
const init = await post("/v1/sys/init", { shares: 1, threshold: 1 });
await post("/v1/sys/unseal", { share: init.shares[0] });
process.send({ rootToken: init.rootToken });
await running;
process.exit(0);
