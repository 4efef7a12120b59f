/**
 * Transit encrypt through the Vault-compatible API against native encrypt, in the same run on the
 * same dev server (bench/tessera-server.mjs): POST /v1/transit/encrypt/{key} (X-Vault-Token, Vault's
 * envelope and `vault:v1:` prefix) vs POST /v1/keys/{key}/encrypt, 256-byte plaintexts, alternating
 * rounds so drift hits both. Then what every request on the listener pays for Vault's LIST verb
 * (api/vault/list-verb.ts): a bare node:http server with and without the rewriter, same payload, and
 * the rewriter's byte scan alone in this process.
 *
 *   npm run build && node bench/vault.mjs
 *   BENCH_SECONDS=3 BENCH_WARMUP_SECONDS=1 BENCH_CONNECTIONS=16 BENCH_ROUNDS=3
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort, startTessera } from "./api-load.mjs";

const int = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const seconds = int("BENCH_SECONDS", 3);
const warmup = int("BENCH_WARMUP_SECONDS", 1);
const connections = int("BENCH_CONNECTIONS", 16);
const rounds = int("BENCH_ROUNDS", 3);
const plaintext = randomBytes(256).toString("base64");

const { ListVerbRewriter } = await import("../packages/server/dist/api/vault/list-verb.js");

/** CPU seconds the server process has used (Linux /proc: utime + stime, in clock ticks of 10 ms). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const { call, load, stop, rootToken, pid } = await startTessera({ connections });
try {
  await call("/v1/keys", { name: "bench-vault" }, 201);
  const vaultHeaders = { "x-vault-token": rootToken };
  const scenarios = [
    ["native  POST /v1/keys/bench-vault/encrypt", "/v1/keys/bench-vault/encrypt", {}],
    ["vault   POST /v1/transit/encrypt/bench-vault", "/v1/transit/encrypt/bench-vault", vaultHeaders],
  ];
  const results = new Map(scenarios.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, path, extra] of scenarios) {
      if (warmup > 0) await load(path, { plaintext }, warmup, extra);
      const before = cpuSeconds(pid);
      const r = await load(path, { plaintext }, seconds, extra);
      results.get(name).push({ ...r, cpuPerRequest: ((cpuSeconds(pid) - before) * 1e6) / r.requests });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = scenarios.map(([name]) => {
    const r = results.get(name);
    return { name, ops: median(r.map((x) => x.opsPerSecond)), p50: median(r.map((x) => x.p50)), p99: median(r.map((x) => x.p99)), cpu: median(r.map((x) => x.cpuPerRequest)) };
  });
  const base = rows[0].ops;
  const baseCpu = rows[0].cpu;
  console.log(`transit encrypt, 256-byte plaintext, ${connections} connections, ${rounds} rounds of ${seconds}s (medians)`);
  // Throughput on a shared machine moves with what else runs; server CPU per request much less.
  for (const r of rows) {
    console.log(`${r.name.padEnd(48)} ${r.ops.toFixed(0).padStart(7)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(3)} ms  × native ${(r.ops / base).toFixed(2)}  server CPU ${r.cpu.toFixed(0)} µs/request (× ${(r.cpu / baseCpu).toFixed(2)})`);
  }
} finally {
  stop();
}

// A bare node:http server with and without the rewriter, alternating rounds.
const here = dirname(fileURLToPath(import.meta.url));
const bare = {};
for (const flag of ["0", "1"]) {
  const port = await freePort();
  const child = fork(join(here, "list-verb-server.mjs"), [], { env: { ...process.env, BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_LIST_VERB: flag }, stdio: "ignore" });
  await new Promise((resolve) => child.once("message", resolve));
  bare[flag] = { child, url: `http://127.0.0.1:${port}/v1/keys/bench-vault/encrypt`, results: [] };
}
const body = JSON.stringify({ plaintext });
const bareLoad = (url, duration) =>
  new Promise((resolve, reject) =>
    autocannon({ url, method: "POST", connections, duration, headers: { "content-type": "application/json", "x-tessera-token": "t".repeat(44) }, body }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) return reject(new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`));
      resolve(r.requests.average);
    }),
  );
const stats = (child) => new Promise((resolve) => (child.once("message", resolve), child.send("stats")));
try {
  for (let round = 0; round < rounds; round++) {
    for (const flag of ["0", "1"]) {
      if (warmup > 0) await bareLoad(bare[flag].url, warmup);
      await stats(bare[flag].child);
      const ops = await bareLoad(bare[flag].url, seconds);
      const { cpuMicros, requests } = await stats(bare[flag].child);
      bare[flag].results.push({ ops, cpuPerRequest: cpuMicros / requests });
    }
  }
} finally {
  for (const b of Object.values(bare)) b.child.kill();
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (flag) => ({ ops: med(bare[flag].results.map((r) => r.ops)), cpu: med(bare[flag].results.map((r) => r.cpuPerRequest)) });
const without = summary("0");
const withRewriter = summary("1");
console.log(`${"bare node:http, no rewriter".padEnd(48)} ${without.ops.toFixed(0).padStart(7)} req/s  ${without.cpu.toFixed(1)} µs CPU per request`);
console.log(`${"bare node:http, LIST rewriter".padEnd(48)} ${withRewriter.ops.toFixed(0).padStart(7)} req/s  ${withRewriter.cpu.toFixed(1)} µs CPU per request  (+${(withRewriter.cpu - without.cpu).toFixed(1)} µs)`);

// The rewriter on a typical request (one chunk) and on a LIST: per-request cost.
const request = Buffer.from(`POST /v1/keys/bench-vault/encrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Tessera-Token: tsr_${"x".repeat(40)}\r\nContent-Length: 360\r\n\r\n${"a".repeat(360)}`);
const list = Buffer.from("LIST /v1/transit/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: t\r\n\r\n");
for (const [name, bytes] of [["rewriter, ordinary request", request], ["rewriter, LIST request", list]]) {
  const r = new ListVerbRewriter();
  for (let i = 0; i < 10_000; i++) r.push(bytes);
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) r.push(bytes);
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(7)} ns per request`);
}
