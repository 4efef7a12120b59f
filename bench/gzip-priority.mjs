/**
 * What a rotated trail's gzip costs the requests running beside it, and what compressing at the
 * lowest CPU priority (audit/background-gzip.ts: a thread at nice 19) saves. One Tessera dev server
 * under Encrypt load at BENCH_CONNECTIONS (default 64); alternating windows of BENCH_SECONDS (default
 * 6), BENCH_ROUNDS rounds (default 3) of three kinds:
 *
 * - none: nothing else runs;
 * - nice 0: a process gzips trail-like data (16 MiB of compact records, 4 MiB per gzip member, as the
 *   server does) in a loop at normal priority — as the server's old zlib stream did, in its own process
 *   and libuv thread pool;
 * - nice 19: the same loop at the lowest priority, as the server now compresses.
 *
 * The compressor runs the whole window, where the server compresses ~1.5 s per 64 MiB rotation: this
 * shows the effect of priority, not its share of a day. Reported per window: throughput, p99, the
 * server's CPU per request; and per kind the median throughput and p99 against "none".
 *
 *   npx tsc -b && node bench/gzip-priority.mjs          BENCH_SECONDS=6 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64
 */
import { execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg, setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { startTessera } from "./api-load.mjs";

if (process.argv[2] === "--gzip-loop") {
  // The compressor: trail-like lines (half of each random, as request ids and hashes are).
  setPriority(Number(process.argv[3]));
  const lines = [];
  for (let seq = 1, size = 0; size < 16 << 20; seq++) {
    const line = `{"v":2,"s":${seq},"t":1764460800000,"u":"${randomBytes(16).toString("base64url")}","c":12,"l":0.707,"h":"${randomBytes(32).toString("base64url")}"}\n`;
    lines.push(line);
    size += line.length;
  }
  const data = Buffer.from(lines.join(""));
  for (;;) for (let i = 0; i < data.length; i += 4 << 20) gzipSync(data.subarray(i, i + (4 << 20)), { level: 6 });
}

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) / ticksPerSecond) * 1e6;
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const t = await startTessera({ connections });
try {
  await t.call("/v1/keys", { name: "bench-key" }, 201);
  const body = { plaintext: randomBytes(256).toString("base64") };
  await t.load("/v1/keys/bench-key/encrypt", body, 3);
  console.log(`Encrypt @${connections} beside a gzip loop: ${rounds} rounds of ${seconds} s windows; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const kinds = [
    ["none", undefined],
    ["nice 0", 0],
    ["nice 19", 19],
  ];
  const results = Object.fromEntries(kinds.map(([k]) => [k, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [kind, nice] of kinds) {
      const gz = nice === undefined ? undefined : fork(fileURLToPath(import.meta.url), ["--gzip-loop", String(nice)], { stdio: "ignore" });
      try {
        // The compressor builds its data first (well under a second).
        if (gz !== undefined) await new Promise((r) => setTimeout(r, 1000));
        const c0 = cpuUs(t.pid);
        const r = await t.load("/v1/keys/bench-key/encrypt", body, seconds);
        const cpu = (cpuUs(t.pid) - c0) / r.requests;
        results[kind].push(r);
        console.log(`  #${round} ${kind.padEnd(8)} ${String(Math.round(r.opsPerSecond)).padStart(6)} req/s  p99 ${String(r.p99).padStart(3)} ms  server CPU ${cpu.toFixed(1)} µs/req`);
      } finally {
        gz?.kill("SIGKILL");
      }
    }
  }
  const base = median(results["none"].map((r) => r.opsPerSecond));
  for (const [kind] of kinds) {
    const rps = median(results[kind].map((r) => r.opsPerSecond));
    console.log(`  ${kind.padEnd(8)} median ${Math.round(rps)} req/s (${(rps / base).toFixed(2)} of none), p99 median ${median(results[kind].map((r) => r.p99))} ms`);
  }
} finally {
  t.stop();
}
