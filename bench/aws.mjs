/**
 * AWS-compatible Encrypt (SigV4-signed, JSON 1.1) beside native Encrypt (token), same server, same
 * key, same 256-byte plaintext, 64 keep-alive connections, measured in the same run.
 *
 * The AWS request is signed once by the official SDK (captured from its middleware after signing)
 * and replayed: SigV4 has no nonce, so the server verifies the full signature on every request, which
 * is what this measures. The server runs in its own process (bench/audit.mjs --server on).
 *
 * Native and AWS alternate for BENCH_ROUNDS rounds (default 3); the ratios are taken within each
 * round and their median is compared with the aim (AWS >= 0.85 of native, issue 15). Besides
 * throughput it reports the server's CPU per request (from /proc), which other work on a shared
 * machine disturbs much less than throughput.
 *
 *   npx tsc -b && node bench/aws.mjs          BENCH_SECONDS=10 BENCH_CONNECTIONS=64 BENCH_ROUNDS=3
 */
import { execFileSync, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { EncryptCommand, KMSClient } from "@aws-sdk/client-kms";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const plaintext = Buffer.alloc(256, 7);
const AIM = 0.85;

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
/** CPU time (user + system) of a process so far, in µs, from /proc/<pid>/stat. */
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const child = fork(fileURLToPath(new URL("./audit.mjs", import.meta.url)), ["--server", "on"], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
  // BENCH_CPU_PROF=1 writes a --cpu-prof of the server to bench/results/prof/aws/.
  ...(process.env.BENCH_CPU_PROF === "1" && { execArgv: ["--cpu-prof", "--cpu-prof-dir", fileURLToPath(new URL("./results/prof/aws/", import.meta.url))] }),
});
const { port, token } = await new Promise((resolve, reject) => {
  child.once("message", resolve);
  child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
});
const base = `http://127.0.0.1:${port}`;

try {
  const post = (path, body, headers = {}) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json", "x-tessera-token": token, ...headers }, body: JSON.stringify(body) }).then((r) => r.json());
  const key = await fetch(`${base}/v1/keys/bench-key`, { headers: { "x-tessera-token": token } }).then((r) => r.json());
  const access = await post("/v1/auth/access-keys", { role: "operator" });

  // Let the SDK build and sign one Encrypt request, then stop it before it is sent.
  const kms = new KMSClient({ region: "us-east-1", endpoint: base, credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey } });
  let signed;
  kms.middlewareStack.add(
    () => async (args) => {
      signed = args.request;
      throw new Error("captured");
    },
    { step: "finalizeRequest", priority: "low", name: "capture" },
  );
  await kms.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext })).catch(() => undefined);
  const awsHeaders = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== "content-length"));

  const run = async (name, opts) => {
    await autocannon({ ...opts, connections, duration: 2 });
    const cpu0 = cpuUs(child.pid);
    const r = await autocannon({ ...opts, connections, duration: seconds });
    const cpuPerRequest = (cpuUs(child.pid) - cpu0) / r.requests.total;
    if (r.errors || r.non2xx) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
    console.log(`  ${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p99 ${String(r.latency.p99).padStart(3)} ms   server CPU ${cpuPerRequest.toFixed(1)} µs/req`);
    return { rps: r.requests.average, cpuPerRequest };
  };
  console.log(`AWS vs native encrypt: ${seconds} s, ${connections} connections, ${rounds} rounds, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const native = {
    url: `${base}/v1/keys/bench-key/encrypt`,
    method: "POST",
    headers: { "content-type": "application/json", "x-tessera-token": token },
    body: JSON.stringify({ plaintext: plaintext.toString("base64") }),
  };
  const aws = { url: `${base}/`, method: "POST", headers: awsHeaders, body: typeof signed.body === "string" ? signed.body : Buffer.from(signed.body) };
  const throughput = [];
  const cpu = [];
  for (let round = 1; round <= rounds; round++) {
    const n = await run(`native (token) #${round}`, native);
    const a = await run(`AWS JSON 1.1 (SigV4) #${round}`, aws);
    throughput.push(a.rps / n.rps);
    cpu.push(n.cpuPerRequest / a.cpuPerRequest);
  }
  const fmt = (v) => v.map((x) => x.toFixed(3)).join(", ");
  console.log(`  throughput AWS / native: median ${median(throughput).toFixed(3)} (rounds ${fmt(throughput)})`);
  console.log(`  server CPU per request native / AWS: median ${median(cpu).toFixed(3)} (rounds ${fmt(cpu)})`);
  console.log(`  ${median(throughput) >= AIM ? "MET " : "MISS"}  AWS throughput >= ${AIM} x native (median)`);
} finally {
  child.kill("SIGTERM");
}
