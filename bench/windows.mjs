/**
 * One Tessera dev server (bench/tessera-server.mjs, durable audit file) under Encrypt load, measured
 * in consecutive windows: per window the throughput, p99, the server's CPU per request (from /proc),
 * the requests per durable audit batch (from /metrics: requests over the count of
 * `tessera_audit_flush_duration_milliseconds`), resident memory and the audit files the server holds
 * open. It shows what changes while one server runs — warm-up, trail rotation and its background gzip,
 * memory growth — which a single 10 s scenario of bench/run.mjs folds into one number.
 *
 *   npx tsc -b && node bench/windows.mjs
 *   BENCH_WINDOWS=12 BENCH_SECONDS=6 BENCH_CONNECTIONS=64
 */
import { execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort } from "./api-load.mjs";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const windows = Number(process.env.BENCH_WINDOWS ?? 12);
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const token = `tsr_bench_${randomBytes(24).toString("hex")}`;

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
/** CPU time (user + system) of a process so far, in µs. */
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) / ticksPerSecond) * 1e6;
}
const rssMiB = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024);
/** The audit files the server holds open, with their sizes. */
function auditFiles(pid) {
  const out = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.includes("/audit")) out.push(`${target.split("/").pop()} ${Math.round(statSync(target).size / 1048576)} MiB`);
    } catch {
      // closed meanwhile
    }
  }
  return out.join(", ");
}

const port = await freePort();
const child = fork(join(here, "tessera-server.mjs"), [], { execArgv: TESSERA_NODE_FLAGS, env: { ...process.env, BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_ROOT_TOKEN: token }, stdio: "ignore" });
const url = `http://127.0.0.1:${port}`;
try {
  for (const deadline = Date.now() + 60_000; ; ) {
    if (Date.now() > deadline) throw new Error("the server did not start");
    try {
      if ((await fetch(`${url}/v1/sys/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const headers = { "x-tessera-token": token, "content-type": "application/json" };
  if ((await fetch(`${url}/v1/keys`, { method: "POST", headers, body: JSON.stringify({ name: "bench-key" }) })).status !== 201) throw new Error("could not create bench-key");
  const flushes = async () => {
    const m = /tessera_audit_flush_duration_milliseconds_count\S*\s+(\d+)/.exec(await (await fetch(`${url}/metrics`)).text());
    return m === null ? NaN : Number(m[1]);
  };
  const body = JSON.stringify({ plaintext: randomBytes(256).toString("base64") });
  console.log(`one server, Encrypt @${connections}, ${windows} windows of ${seconds} s; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  for (let i = 1; i <= windows; i++) {
    const f0 = await flushes();
    const c0 = cpuUs(child.pid);
    const r = await autocannon({ url: `${url}/v1/keys/bench-key/encrypt`, method: "POST", headers, body, connections, duration: seconds });
    const cpu = (cpuUs(child.pid) - c0) / r.requests.total;
    const batch = r.requests.total / ((await flushes()) - f0);
    if (r.errors || r.non2xx) throw new Error(`window ${i}: ${r.errors} errors, ${r.non2xx} non-2xx`);
    console.log(
      `window ${String(i).padStart(2)}: ${String(Math.round(r.requests.average)).padStart(6)} req/s  p99 ${String(r.latency.p99).padStart(3)} ms  ` +
        `server CPU ${cpu.toFixed(1)} µs/req  ${batch.toFixed(1)} req/durable batch  RSS ${rssMiB(child.pid)} MiB  ${auditFiles(child.pid)}`,
    );
  }
} finally {
  child.kill("SIGTERM");
}
