/**
 * Scavenge pauses and Encrypt latency with V8's default young generation against a capped one.
 * V8 grows the semi-spaces with the heap limit (on this project's 24 GiB machine up to 64 MiB each);
 * a scavenge stops the event loop for as long as it copies survivors, and every request in flight
 * waits. One Tessera dev server at a time (bench/tessera-server.mjs, started with `--trace-gc` and the
 * flags under test), Encrypt at BENCH_CONNECTIONS (default 64) for BENCH_SECONDS (default 8) after a
 * 3 s warm-up; the variants alternate for BENCH_ROUNDS rounds (default 4). Reported per run:
 * throughput, p99, and the scavenges (count, median and longest pause, total); per variant the medians.
 *
 *   npx tsc -b && node bench/young-generation.mjs       BENCH_YOUNG_FLAGS="|--max-semi-space-size=16"
 */
import { randomBytes } from "node:crypto";
import { startTessera } from "./api-load.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** `|`-separated variants, each a space-separated list of node flags ("" = the defaults). */
const variants = (process.env.BENCH_YOUNG_FLAGS ?? "|--max-semi-space-size=16").split("|").map((v) => v.split(" ").filter(Boolean));
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const SCAVENGE = /Scavenge[^,]*?[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

async function run(flags) {
  let trace = "";
  const t = await startTessera({ connections, execArgv: ["--trace-gc", ...flags], onStdout: (d) => (trace += d) });
  try {
    await t.call("/v1/keys", { name: "bench-key" }, 201);
    const body = { plaintext: randomBytes(256).toString("base64") };
    await t.load("/v1/keys/bench-key/encrypt", body, 3);
    trace = "";
    const r = await t.load("/v1/keys/bench-key/encrypt", body, seconds);
    const pauses = trace.split("\n").flatMap((l) => {
      const m = SCAVENGE.exec(l);
      return m === null ? [] : [Number(m[1])];
    });
    return { rps: r.opsPerSecond, p99: r.p99, scavenges: pauses.length, p50: median(pauses) ?? 0, max: Math.max(0, ...pauses), total: pauses.reduce((a, b) => a + b, 0) };
  } finally {
    t.stop();
  }
}

console.log(`Encrypt @${connections}, ${rounds} rounds of ${seconds} s per variant`);
const results = variants.map(() => []);
for (let round = 1; round <= rounds; round++) {
  for (const [i, flags] of variants.entries()) {
    const r = await run(flags);
    results[i].push(r);
    console.log(`  #${round} ${(flags.join(" ") || "defaults").padEnd(26)} ${String(Math.round(r.rps)).padStart(6)} req/s  p99 ${String(r.p99).padStart(3)} ms  scavenges ${r.scavenges} (median ${r.p50} ms, longest ${r.max} ms, ${r.total.toFixed(0)} ms in all)`);
  }
}
for (const [i, flags] of variants.entries()) {
  const rs = results[i];
  console.log(`  ${(flags.join(" ") || "defaults").padEnd(26)} median ${Math.round(median(rs.map((r) => r.rps)))} req/s, p99 ${median(rs.map((r) => r.p99))} ms, longest scavenge ${median(rs.map((r) => r.max))} ms`);
}
