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
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort } from "./api-load.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** `|`-separated variants, each a space-separated list of node flags ("" = the defaults). */
const variants = (process.env.BENCH_YOUNG_FLAGS ?? "|--max-semi-space-size=16").split("|").map((v) => v.split(" ").filter(Boolean));
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const SCAVENGE = /Scavenge[^,]*?[\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

async function run(flags) {
  const token = `tsr_bench_${randomBytes(24).toString("hex")}`;
  const port = await freePort();
  const child = fork(join(here, "tessera-server.mjs"), [], { execArgv: ["--trace-gc", ...flags], env: { ...process.env, BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_ROOT_TOKEN: token }, stdio: ["ignore", "pipe", "ignore", "ipc"] });
  let trace = "";
  child.stdout.on("data", (d) => (trace += d));
  try {
    const url = `http://127.0.0.1:${port}`;
    for (const deadline = Date.now() + 30_000; ; ) {
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
    const load = { url: `${url}/v1/keys/bench-key/encrypt`, method: "POST", headers, body: JSON.stringify({ plaintext: randomBytes(256).toString("base64") }), connections };
    await autocannon({ ...load, duration: 3 });
    trace = "";
    const r = await autocannon({ ...load, duration: seconds });
    if (r.errors || r.non2xx) throw new Error(`${r.errors} errors, ${r.non2xx} non-2xx`);
    const pauses = trace.split("\n").flatMap((l) => {
      const m = SCAVENGE.exec(l);
      return m === null ? [] : [Number(m[1])];
    });
    return { rps: r.requests.average, p99: r.latency.p99, scavenges: pauses.length, p50: median(pauses) ?? 0, max: Math.max(0, ...pauses), total: pauses.reduce((a, b) => a + b, 0) };
  } finally {
    child.kill("SIGTERM");
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
