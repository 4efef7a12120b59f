/**
 * Audit benchmarks, all measured in this run:
 *
 * 1. Encrypt over HTTP (keep-alive, 64 connections) against a Tessera whose audit trail is durable
 *    (database sink: group-committed SQLite transactions with synchronous=FULL, plus a JSON-lines
 *    file fsynced per batch) and against the same Tessera with no audit sink — the ratio is the cost
 *    of durable auditing. Each server runs in its own child process.
 * 2. `verifyTrail` speed in entries per second on a trail of BENCH_AUDIT_ENTRIES (default 1,000,000)
 *    records generated with the real record code and written to a temporary file.
 * 3. Audit volume and durability (bench/audit-durability.mjs, also run by bench/run.mjs): bytes per
 *    request record as written (compact format 2) and as format 1 would have written the same records,
 *    Encrypt latency at 1 connection and throughput at 64 with `audit.durability` sync and batch.
 *
 *   npx tsc -b && node bench/audit.mjs           BENCH_SECONDS=10 BENCH_AUDIT_ENTRIES=1000000
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, createWriteStream } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { auditDurability } from "./audit-durability.mjs";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const entries = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);

if (process.argv[2] === "--server") {
  // Child: an initialised, unsealed Tessera with or without audit sinks, on an ephemeral port.
  const { buildApp, SqliteStore } = await import("../packages/server/dist/index.js");
  const dir = mkdtempSync(join(tmpdir(), "tessera-bench-audit-"));
  // off: no sink; on: the default durable file sink (durability sync); batch: the same with durability batch.
  const mode = process.argv[3];
  const app = await buildApp({
    store: new SqliteStore({ path: join(dir, "t.db") }),
    audit: mode === "off" ? { database: false } : { ...sinks(process.env.BENCH_AUDIT_SINKS ?? "file", dir), ...(mode === "batch" && { durability: { mode: "batch" } }) },
  });
  const call = async (method, url, body, token) =>
    JSON.parse((await app.http.inject({ method, url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body ?? {}) })).body);
  const init = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
  await call("POST", "/v1/sys/unseal", { share: init.shares[0] });
  await call("POST", "/v1/keys", { name: "bench-key" }, init.rootToken);
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  process.send({ port: app.http.server.address().port, token: init.rootToken });
  // Asked for the trail's volume: bytes per request record as written, and as format 1 would write them.
  process.on("message", async (m) => {
    if (m?.stats !== true) return;
    const { fileLines, trailFiles, TrailDecoder, recordLine } = await import("../packages/audit/dist/index.js");
    const decoder = new TrailDecoder();
    const stats = { requestRecords: 0, requestBytes: 0, v1RequestBytes: 0, totalBytes: 0 };
    let prev = "0".repeat(64);
    for await (const chunk of fileLines(await trailFiles(join(dir, "audit.jsonl")))) {
      for (const line of chunk.lines) {
        if (line === "") continue;
        stats.totalBytes += Buffer.byteLength(line) + 1;
        const r = decoder.decode(line);
        if (r.kind === "request") {
          stats.requestRecords++;
          stats.requestBytes += Buffer.byteLength(line) + 1;
          stats.v1RequestBytes += Buffer.byteLength(recordLine({ ...r, prev })) + 1;
        }
        prev = r.hash;
      }
    }
    process.send({ stats });
  });
  const stop = async () => {
    await app.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
} else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}

/** BENCH_AUDIT_SINKS: file (default), database, or both. */
function sinks(which, dir) {
  const file = { file: { path: join(dir, "audit.jsonl") } };
  if (which === "file") return { database: false, ...file };
  if (which === "database") return { database: true };
  return { database: true, ...file };
}

async function startServer(mode) {
  const child = fork(fileURLToPath(import.meta.url), ["--server", mode], { execArgv: TESSERA_NODE_FLAGS, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const info = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, ...info };
}

async function load(port, token) {
  const body = JSON.stringify({ plaintext: Buffer.alloc(256, 7).toString("base64") });
  const run = (duration) =>
    autocannon({
      url: `http://127.0.0.1:${port}/v1/keys/bench-key/encrypt`,
      method: "POST",
      headers: { "content-type": "application/json", "x-tessera-token": token },
      body,
      connections,
      duration,
    });
  await run(2);
  const r = await run(seconds);
  if (r.errors || r.non2xx) throw new Error(`errors ${r.errors}, non-2xx ${r.non2xx}`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

/** `compact`: the records as the server writes them now (format 2, one context referred to); else format 1. */
async function verifySpeed(compact) {
  const { verifyTrail, fileLines, recordHash, recordLine, GENESIS, contextJson, encodeRequestV2 } = await import("../packages/audit/dist/index.js");
  const dir = mkdtempSync(join(tmpdir(), "tessera-bench-verify-"));
  const path = join(dir, "audit.jsonl");
  const out = createWriteStream(path);
  let prev = GENESIS;
  for (let seq = 1; seq <= entries; seq++) {
    const r = {
      seq,
      time: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
      kind: "request",
      requestId: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
      principal: { id: "hmac:" + "ab".repeat(32), kind: "vm", displayName: "vm-1", role: "payment-vm", authMethod: "cert" },
      source: "10.0.0.7",
      action: "kms:Decrypt",
      keyId: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11",
      keyVersion: 1,
      outcome: "allowed",
      errorCode: null,
      latencyMs: 0.42,
      hmac: { "context.vm": "cd".repeat(32) },
      prev,
      hash: "",
    };
    let line;
    if (compact) {
      const e = encodeRequestV2(r, seq === 1 ? contextJson(r) : 1, seq === 1);
      [line, r.hash] = [e.line, e.hash];
    } else {
      r.hash = recordHash(r);
      line = recordLine(r);
    }
    prev = r.hash;
    if (!out.write(line + "\n")) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  const t0 = performance.now();
  // A generated trail without checkpoints: open, like a live one.
  const report = await verifyTrail(fileLines([path]), { allowOpenTail: true });
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  if (!report.ok) throw new Error(`verification failed: ${JSON.stringify(report.problem)}`);
  return { entries: report.entries, ms, perSecond: report.entries / (ms / 1000) };
}

async function main() {
  console.log(`audit benchmark: ${seconds} s per scenario, ${connections} connections; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const results = {};
  for (const mode of ["off", "on"]) {
    const s = await startServer(mode);
    try {
      results[mode] = await load(s.port, s.token);
    } finally {
      s.child.kill("SIGTERM");
    }
    console.log(`  encrypt, audit ${mode.padEnd(3)}  ${results[mode].rps.toFixed(0).padStart(7)} req/s   p99 ${results[mode].p99.toFixed(2)} ms`);
  }
  console.log(`  ratio durable audit on / off: ${(results.on.rps / results.off.rps).toFixed(3)} (aim >= 0.8)`);
  for (const compact of [false, true]) {
    const v = await verifySpeed(compact);
    console.log(`  audit verify (${compact ? "compact records" : "format 1 records"}): ${v.entries} entries in ${(v.ms / 1000).toFixed(2)} s = ${Math.round(v.perSecond)} entries/s (aim >= 200000)`);
  }
  await auditDurability({ seconds, warmupSeconds: 2, log: console.log });
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}
