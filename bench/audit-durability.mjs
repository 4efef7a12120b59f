/**
 * Audit volume and durability, measured in one run (bench/audit.mjs and bench/run.mjs call it):
 *
 * - bytes per request record in the trail as written (compact format 2) and as format 1 would have
 *   written the same records (re-encoded from the decoded records) — the aim is ≤ 200;
 * - Encrypt over HTTP at 1 connection (latency: each request waits for its record) and at 64
 *   connections (throughput), against a Tessera with the file sink and `audit.durability` `sync`
 *   (default: datasync before the answer) and `batch` (datasync every 10 ms).
 *
 * Each server runs in its own child process (bench/audit.mjs --server <mode>).
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const script = fileURLToPath(new URL("./audit.mjs", import.meta.url));

async function startServer(mode) {
  const child = fork(script, ["--server", mode], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const info = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`audit bench server (${mode}) exited ${code}`)));
  });
  return { child, ...info };
}

function stats(child) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m?.stats === undefined) return;
      child.off("message", on);
      resolve(m.stats);
    };
    child.on("message", on);
    child.send({ stats: true });
  });
}

async function load(port, token, connections, seconds) {
  const latencies = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${port}/v1/keys/bench-key/encrypt`,
    method: "POST",
    headers: { "content-type": "application/json", "x-tessera-token": token },
    body: JSON.stringify({ plaintext: Buffer.alloc(256, 7).toString("base64") }),
    connections,
    duration: seconds,
  });
  instance.on("response", (_c, status, _b, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const r = await instance;
  if (r.errors || r.non2xx) throw new Error(`errors ${r.errors}, non-2xx ${r.non2xx}`);
  const sorted = Float64Array.from(latencies).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
  return { rps: Math.round(sorted.length / r.duration), mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1), p50: at(0.5), p99: at(0.99) };
}

/** Runs the scenarios; returns the numbers (and prints them through `log`). */
export async function auditDurability({ seconds = 10, warmupSeconds = 2, log = () => undefined } = {}) {
  const result = { durability: {}, volume: undefined };
  for (const mode of ["on", "batch"]) {
    const name = mode === "on" ? "sync" : "batch";
    const s = await startServer(mode);
    try {
      if (warmupSeconds > 0) await load(s.port, s.token, 64, warmupSeconds);
      const one = await load(s.port, s.token, 1, seconds);
      const many = await load(s.port, s.token, 64, seconds);
      result.durability[name] = { at1: one, at64: many };
      log(`  audit.durability ${name.padEnd(5)} encrypt @1: mean ${one.mean.toFixed(3)} ms, p50 ${one.p50.toFixed(3)} ms, p99 ${one.p99.toFixed(3)} ms; @64: ${many.rps} req/s, p99 ${many.p99.toFixed(2)} ms`);
      if (mode === "on") {
        const v = await stats(s.child);
        result.volume = { ...v, bytesPerRequestRecord: v.requestBytes / v.requestRecords, v1BytesPerRequestRecord: v.v1RequestBytes / v.requestRecords };
        log(
          `  audit volume: ${v.requestRecords} request records, ${result.volume.bytesPerRequestRecord.toFixed(1)} bytes each as written (compact), ` +
            `${result.volume.v1BytesPerRequestRecord.toFixed(1)} as format 1 would write them (${(result.volume.v1BytesPerRequestRecord / result.volume.bytesPerRequestRecord).toFixed(2)}×); ` +
            `whole trail ${(v.totalBytes / v.requestRecords).toFixed(1)} bytes per request (aim <= 200 per record: ${result.volume.bytesPerRequestRecord <= 200 ? "MET" : "MISS"})`,
        );
      }
    } finally {
      s.child.kill("SIGTERM");
    }
  }
  const { sync, batch } = result.durability;
  log(`  batch / sync: @1 mean latency ${(batch.at1.mean / sync.at1.mean).toFixed(2)}×, @64 throughput ${(batch.at64.rps / sync.at64.rps).toFixed(2)}×`);
  return result;
}
