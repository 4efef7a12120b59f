/**
 * Scale of state (issue 15): does the hot path slow down, memory grow or start-up stall with the
 * number of keys in the store? In ONE run, two dev servers (bench/tessera-server.mjs: real SQLite
 * file, durable audit trail in a file fsynced per batch, unsealed, each in its own process):
 *
 * - "small": a store with BENCH_SCALE_SMALL keys (default 10), Encrypt hitting them at random;
 * - "large": a store with BENCH_SCALE_KEYS keys (default 1,000,000), Encrypt hitting a working set
 *   of BENCH_SCALE_WORKING_SET keys (default 10,000) picked at random among them, each request a
 *   random key of that set (by name, as clients call keys).
 *
 * Both run at BENCH_CONNECTIONS (default 64) keep-alive connections, measured in alternating
 * windows (small, large; then large, small; … BENCH_ROUNDS rounds) so other work on the machine falls
 * on both alike. Reported: throughput and p99 of each, the ratio large/small within each round and
 * their median (aim >= 0.9; the ratio of the mean throughputs beside it), each server's
 * resident memory (RSS) after the runs with the keyring bounded by its LRU (default 100,000 keys,
 * `key_cache_size`), and each server's start-up time — process start to the first answered Encrypt
 * on an unsealed server (aim < 5 s with 1,000,000 keys). Also the latency of ListKeys pages at the
 * start and deep in the large store.
 *
 * How the keys are made (reported separately, as "seeding"): the server code creates the store and
 * initialises it (dev mode: one unseal share), then a seeding process opens the same store through
 * the server's own code (buildApp, unsealed with the dev share) and writes each key as KeyService
 * does — a key row and version 1 whose fresh random 256-bit material is sealed under the root key
 * with AAD = key id ‖ version — in transactions of BENCH_SCALE_BATCH keys (default 10,000) instead of
 * one transaction per key. The store's triggers write the change feed for each row as for any key.
 * Every key is a real SYMMETRIC_DEFAULT key: the run decrypts what it encrypted with a random
 * seeded key as a check.
 *
 *   npx tsc -b && node bench/scale.mjs
 *   BENCH_SCALE_KEYS=1000000 BENCH_SCALE_WORKING_SET=10000 BENCH_SCALE_SMALL=10 BENCH_SCALE_BATCH=10000
 *   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=5 BENCH_CONNECTIONS=64 BENCH_ROUNDS=4
 *   BENCH_CPU_PROF=1          write a --cpu-prof of each server to bench/results/prof/scale-{small,large}-N/
 *   BENCH_SCALE_DIR=/path     keep the seeded stores there and reuse them on the next run (default: a
 *                             temporary directory, deleted at the end)
 *
 * Writes bench/results/scale.json (or BENCH_RESULTS_DIR/scale.json).
 */
import { fork } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort } from "./api-load.mjs";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);

function envInt(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

const keyName = (i) => `scale-${String(i).padStart(8, "0")}`;

// ── seeding (child process: node scale.mjs --seed DIR COUNT BATCH) ───────────────────────────────

if (process.argv[2] === "--seed") {
  const [dir, countArg, batchArg] = process.argv.slice(3);
  const count = Number(countArg);
  const batch = Number(batchArg);
  const { SqliteStore, buildApp } = await import("../packages/server/dist/index.js");
  const { keyVersionAad } = await import("../packages/server/dist/format/keyring-record.js");
  const state = JSON.parse(readFileSync(join(dir, "dev-state.json"), "utf8"));
  const store = new SqliteStore({ path: join(dir, "tessera.db") });
  // The same store and trail the dev server uses; unsealing is audited there like any unseal.
  const app = await buildApp({ store, logger: false, audit: { database: false, file: { path: join(dir, "audit", "audit.jsonl") } } });
  await app.service.unseal({ token: undefined, source: "bench-seed", requestId: "bench-seed" }, { share: state.unsealKey });
  const started = process.hrtime.bigint();
  const material = Buffer.alloc(32);
  for (let from = 0; from < count; from += batch) {
    const to = Math.min(count, from + batch);
    const now = Date.now();
    const ring = app.barrier.ring();
    // As KeyService.create writes a key: the row, then version 1 with material sealed under the root key.
    const rows = [];
    for (let i = from; i < to; i++) {
      const id = randomUUID();
      randomBytes(32).copy(material);
      const sealed = ring.seal(material, keyVersionAad(id, 1));
      rows.push({
        key: {
          id,
          name: keyName(i),
          description: "",
          tags: {},
          keySpec: "SYMMETRIC_DEFAULT",
          keyUsage: "ENCRYPT_DECRYPT",
          origin: "TESSERA",
          state: "Enabled",
          priorState: null,
          derived: false,
          convergent: false,
          exportable: false,
          createdAt: now,
          primaryVersion: 1,
          minDecryptionVersion: 1,
          minEncryptionVersion: 0,
          rotationPeriodSeconds: null,
          lastRotatedAt: now,
          deletionDate: null,
          destroyedAt: null,
          revision: 1,
        },
        version: { keyId: id, version: 1, state: "Enabled", createdAt: now, material: sealed, lastUsedAt: null, useCount: 0, destroyedAt: null },
      });
    }
    material.fill(0);
    await store.transaction(async (tx) => {
      for (const r of rows) {
        await tx.keys.insert(r.key);
        await tx.versions.insert(r.version);
      }
    });
    if (to % 100_000 === 0 || to === count) process.stdout.write(`  seeded ${to} keys, ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await app.close();
  process.send?.({ seconds });
  process.exit(0);
}

// ── the run ─────────────────────────────────────────────────────────────────────────────────────

const config = {
  keys: envInt("BENCH_SCALE_KEYS", 1_000_000, 1, 100_000_000),
  workingSet: envInt("BENCH_SCALE_WORKING_SET", 10_000, 1, 10_000_000),
  small: envInt("BENCH_SCALE_SMALL", 10, 1, 1_000_000),
  batch: envInt("BENCH_SCALE_BATCH", 10_000, 1, 1_000_000),
  seconds: envInt("BENCH_SECONDS", 10, 1, 600),
  warmupSeconds: envInt("BENCH_WARMUP_SECONDS", 5, 0, 120),
  connections: envInt("BENCH_CONNECTIONS", 64, 1, 1024),
  rounds: envInt("BENCH_ROUNDS", 4, 1, 20),
  plaintextBytes: 256,
};
if (config.workingSet > config.keys) throw new Error("BENCH_SCALE_WORKING_SET exceeds BENCH_SCALE_KEYS");
const AIMS = { ratioMin: 0.9, startupMaxMs: 5000 };
const keepDir = process.env.BENCH_SCALE_DIR || undefined;
const root = keepDir ?? mkdtempSync(join(tmpdir(), "tessera-bench-scale-"));
mkdirSync(root, { recursive: true });
// Dev mode keeps the root token a store was made with: a reused directory keeps its token too.
const tokenFile = join(root, "bench-root-token");
const rootToken = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : `tsr_bench_${randomBytes(16).toString("hex")}`;
writeFileSync(tokenFile, rootToken, { mode: 0o600 });
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;

/** Starts a dev server on `dir`; resolves with its url, pid and start-up times once it answers an Encrypt on `probeKey`. */
async function startServer(dir, probeKey) {
  const port = await freePort();
  const t0 = performance.now();
  const profile = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", `--cpu-prof-dir=${join(here, "results", "prof", `scale-${basename(dir)}`)}`] : [];
  const child = fork(join(here, "tessera-server.mjs"), [], {
    env: { ...process.env, BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_ROOT_TOKEN: rootToken, BENCH_DATA: dir },
    execArgv: [...TESSERA_NODE_FLAGS, ...profile],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (c) => (output = (output + c.toString()).slice(-8192));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const entry = { child, exited };
  children.add(entry);
  exited.then(() => children.delete(entry));
  const url = `http://127.0.0.1:${port}`;
  let healthyMs;
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`server on ${dir} exited (code ${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/v1/sys/health`)).status === 200) {
        healthyMs = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server on ${dir} did not become healthy within 120 s:\n${output}`);
    await sleep(10);
  }
  const healthyCpuMs = cpuMs(child.pid);
  let firstEncryptMs;
  let firstEncryptCpuMs;
  if (probeKey !== undefined) {
    await call(url, `/v1/keys/${probeKey}/encrypt`, { plaintext: Buffer.alloc(16, 1).toString("base64") });
    firstEncryptMs = performance.now() - t0;
    firstEncryptCpuMs = cpuMs(child.pid);
  }
  // CPU time is what the server itself spent; wall time also counts waiting for a busy machine.
  return { url, pid: child.pid, entry, healthyMs, firstEncryptMs, healthyCpuMs, firstEncryptCpuMs, output: () => output };
}

async function stopServer(s) {
  if (s.entry.child.exitCode !== null) return;
  s.entry.child.kill("SIGTERM");
  const t = setTimeout(() => s.entry.child.kill("SIGKILL"), 10_000);
  await s.entry.exited;
  clearTimeout(t);
}

async function call(url, path, body, expect = 200, method = "POST") {
  const res = await fetch(url + path, {
    method,
    headers: { "content-type": "application/json", "x-tessera-token": rootToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Resident and peak resident memory of a process, in MiB, from /proc. */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMiB: round(kb("VmRSS") / 1024, 1), peakRssMiB: round(kb("VmHWM") / 1024, 1) };
  } catch {
    return { rssMiB: null, peakRssMiB: null };
  }
}

function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Encrypt at random over `names` for `seconds`; every error or non-2xx fails the run. */
function load(server, names, seconds) {
  const body = JSON.stringify({ plaintext: randomBytes(config.plaintextBytes).toString("base64") });
  const paths = names.map((n) => `/v1/keys/${n}/encrypt`);
  const cpuBefore = cpuMs(server.pid);
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(
      {
        url: server.url,
        connections: config.connections,
        duration: seconds,
        timeout: 10,
        headers: { "content-type": "application/json", "x-tessera-token": rootToken },
        requests: [{ method: "POST", body, setupRequest: (req) => ({ ...req, path: paths[randomInt(paths.length)] }) }],
      },
      (err, r) => {
        if (err) return reject(err);
        if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) return reject(new Error(`${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts ${JSON.stringify(r.statusCodeStats)}`));
        const cpuAfter = cpuMs(server.pid);
        const sorted = Float64Array.from(latencies).sort();
        const p = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
        resolve({
          requestsPerSecond: Math.round(sorted.length / r.duration),
          p50Ms: round(p(0.5), 2),
          p99Ms: round(p(0.99), 2),
          maxMs: round(sorted[sorted.length - 1], 2),
          serverCpuUsPerRequest: cpuBefore === undefined ? null : round(((cpuAfter - cpuBefore) * 1000) / sorted.length, 1),
        });
      },
    );
    instance.on("response", (_c, status, _b, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/** A store of `count` keys in `dir`, made as the header says; returns the seeding time (or the reused store's). */
async function prepareStore(dir, count) {
  const marker = join(dir, "bench-seeded.json");
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, "utf8"));
    if (m.count === count) return { ...m, reused: true };
    throw new Error(`${dir} holds another store (${m.count} keys); remove it or pick another BENCH_SCALE_DIR`);
  }
  mkdirSync(dir, { recursive: true });
  // The server creates and initialises the store (dev mode: 1-of-1 share beside the data).
  const s = await startServer(dir, undefined);
  await stopServer(s);
  const seeder = fork(self, ["--seed", dir, String(count), String(config.batch)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const seconds = await new Promise((resolve, reject) => {
    seeder.once("message", (m) => resolve(m.seconds));
    seeder.once("exit", (code) => code !== 0 && reject(new Error(`seeding ${dir} failed (exit ${code})`)));
  });
  const dbBytes = statSync(join(dir, "tessera.db")).size + (existsSync(join(dir, "tessera.db-wal")) ? statSync(join(dir, "tessera.db-wal")).size : 0);
  const m = { count, seedSeconds: round(seconds, 1), keysPerSecond: Math.round(count / seconds), dbMiB: round(dbBytes / 2 ** 20, 1) };
  writeFileSync(marker, JSON.stringify(m));
  return { ...m, reused: false };
}

async function main() {
  const la = loadavg();
  console.log(
    `Scale of state: ${config.small} keys vs ${config.keys} keys (working set ${config.workingSet}), Encrypt at ${config.connections} connections, ` +
      `${config.rounds} rounds of ${config.seconds} s (warm-up ${config.warmupSeconds} s); ${cpus().length} CPUs; load average ${la.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const smallDir = join(root, `small-${config.small}`);
  const largeDir = join(root, `large-${config.keys}`);
  const seedSmall = await prepareStore(smallDir, config.small);
  console.log(`seeding ${config.keys} keys (transactions of ${config.batch}) …`);
  const seedLarge = await prepareStore(largeDir, config.keys);
  console.log(
    `seeding: ${config.small} keys ${seedSmall.seedSeconds} s; ${config.keys} keys ${seedLarge.seedSeconds} s (${seedLarge.keysPerSecond} keys/s, database ${seedLarge.dbMiB} MiB)` +
      (seedLarge.reused ? " (reused from an earlier run)" : ""),
  );

  const smallNames = Array.from({ length: config.small }, (_, i) => keyName(i));
  const picked = new Set();
  while (picked.size < config.workingSet) picked.add(randomInt(config.keys));
  const largeNames = [...picked].map(keyName);

  // Start-up: a fresh process on each store, to the first answered Encrypt.
  const small = await startServer(smallDir, smallNames[0]);
  const large = await startServer(largeDir, largeNames[0]);
  console.log(
    `start-up to first Encrypt: ${config.small} keys ${Math.round(small.firstEncryptMs)} ms (healthy ${Math.round(small.healthyMs)} ms, server CPU ${small.firstEncryptCpuMs} ms); ` +
      `${config.keys} keys ${Math.round(large.firstEncryptMs)} ms (healthy ${Math.round(large.healthyMs)} ms, server CPU ${large.firstEncryptCpuMs} ms)`,
  );
  const memAtStart = { small: memory(small.pid), large: memory(large.pid) };

  // Sanity: real keys, decrypt(encrypt(x)) = x on a random seeded key of each store.
  for (const [s, names] of [[small, smallNames], [large, largeNames]]) {
    const plaintext = randomBytes(32).toString("base64");
    const enc = await call(s.url, `/v1/keys/${names[randomInt(names.length)]}/encrypt`, { plaintext });
    const dec = await call(s.url, "/v1/decrypt", { ciphertext: enc.ciphertext });
    if (dec.plaintext !== plaintext) throw new Error("sanity check failed: decrypt(encrypt(x)) != x");
  }

  // Every key of the working set once (64 at a time): the large store's keyring loads and unwraps
  // each from storage — the cold cost, reported, then warm-up and measurement on a warm keyring.
  const prime = async (s, names) => {
    const t = performance.now();
    const cpu0 = cpuMs(s.pid);
    let next = 0;
    const plaintext = Buffer.alloc(32, 2).toString("base64");
    await Promise.all(Array.from({ length: config.connections }, async () => {
      while (next < names.length) await call(s.url, `/v1/keys/${names[next++]}/encrypt`, { plaintext });
    }));
    return { ms: Math.round(performance.now() - t), cpuUsPerKey: round(((cpuMs(s.pid) - cpu0) * 1000) / names.length, 1) };
  };
  const primed = { small: await prime(small, smallNames), large: await prime(large, largeNames) };
  console.log(`first use of each working-set key: ${config.small} keys ${primed.small.ms} ms; ${config.workingSet} keys ${primed.large.ms} ms (${primed.large.cpuUsPerKey} µs server CPU a key)`);
  if (config.warmupSeconds > 0) {
    await load(small, smallNames, config.warmupSeconds);
    await load(large, largeNames, config.warmupSeconds);
  }
  const rounds = [];
  for (let i = 0; i < config.rounds; i++) {
    // Odd rounds measure the large store first: drift within a round falls on each side alike.
    const largeFirst = i % 2 === 1;
    const b0 = largeFirst ? await load(large, largeNames, config.seconds) : undefined;
    const a = await load(small, smallNames, config.seconds);
    const b = b0 ?? (await load(large, largeNames, config.seconds));
    const ratio = round(b.requestsPerSecond / a.requestsPerSecond, 3);
    rounds.push({ small: a, large: b, ratio });
    console.log(`round ${i + 1}: ${config.small} keys ${a.requestsPerSecond} req/s p99 ${a.p99Ms} ms (${a.serverCpuUsPerRequest} µs CPU/req); ${config.keys} keys ${b.requestsPerSecond} req/s p99 ${b.p99Ms} ms (${b.serverCpuUsPerRequest} µs CPU/req); ratio ${ratio}`);
  }
  const mem = { small: memory(small.pid), large: memory(large.pid) };

  // ListKeys: the first page and a page deep in the large store (paging by marker).
  const timeList = async (query) => {
    const t = performance.now();
    const page = await call(large.url, `/v1/keys${query}`, undefined, 200, "GET");
    return { ms: round(performance.now() - t, 1), page };
  };
  const first = await timeList("?limit=100");
  const second = await timeList(`?limit=100&marker=${first.page.nextMarker}`);
  // A page 90% of the way through: its marker is the id of a key seeded there.
  const deepKey = await call(large.url, `/v1/keys/${keyName(Math.floor(config.keys * 0.9))}`, undefined, 200, "GET");
  const deep = await timeList(`?limit=100&marker=${deepKey.keyId}`);
  const listing = { firstPageMs: first.ms, secondPageMs: second.ms, deepPageMs: deep.ms, deepPageKeys: deep.page.keys.length };

  await stopServer(small);
  await stopServer(large);
  const la2 = loadavg();

  const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const median = (xs) => {
    const v = [...xs].sort((x, y) => x - y);
    return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const smallRps = mean(rounds.map((r) => r.small.requestsPerSecond));
  const largeRps = mean(rounds.map((r) => r.large.requestsPerSecond));
  // As in run.mjs and aws.mjs: each ratio within a round, the aim on their median (the ratio of the
  // means is printed too; one slow window of either store moves it more).
  const ratio = round(median(rounds.map((r) => r.ratio)), 3);
  const ratioOfMeans = round(largeRps / smallRps, 3);
  const aims = [
    { aim: `encrypt throughput ${config.keys} keys / ${config.small} keys >= ${AIMS.ratioMin}`, value: ratio, met: ratio >= AIMS.ratioMin },
    { aim: `start-up with ${config.keys} keys to first Encrypt < ${AIMS.startupMaxMs} ms`, value: Math.round(large.firstEncryptMs), met: large.firstEncryptMs < AIMS.startupMaxMs },
  ];
  console.log("");
  console.log(`| store | keys used | req/s (mean of ${config.rounds}) | p99 ms (worst) | server CPU µs/req | start-up ms (healthy / first Encrypt / server CPU) | RSS MiB at start | RSS MiB after load (peak) |`);
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [label, keys, used, s, ms, m0, m1] of [
    ["small", config.small, config.small, "small", small, memAtStart.small, mem.small],
    ["large", config.keys, config.workingSet, "large", large, memAtStart.large, mem.large],
  ]) {
    const rs = rounds.map((r) => r[s]);
    console.log(
      `| ${label}: ${keys} keys | ${used} | ${Math.round(mean(rs.map((r) => r.requestsPerSecond)))} | ${Math.max(...rs.map((r) => r.p99Ms))} | ${round(mean(rs.map((r) => r.serverCpuUsPerRequest)), 1)} | ${Math.round(ms.healthyMs)} / ${Math.round(ms.firstEncryptMs)} / ${ms.firstEncryptCpuMs} | ${m0.rssMiB} | ${m1.rssMiB} (${m1.peakRssMiB}) |`,
    );
  }
  console.log(`\nthroughput ${config.keys} keys / ${config.small} keys: median of rounds ${ratio} (rounds ${rounds.map((r) => r.ratio).join(", ")}); ratio of the means ${ratioOfMeans}`);
  console.log(`\nListKeys on ${config.keys} keys: first page of 100 ${listing.firstPageMs} ms, second ${listing.secondPageMs} ms, one 90% of the way through ${listing.deepPageMs} ms`);
  console.log("\naims:");
  for (const a of aims) console.log(`  ${a.met ? "MET " : "MISS"}  ${a.aim.padEnd(60)} (${a.value})`);
  console.log(`\nload average before ${la.map((l) => l.toFixed(2)).join(" ")}, after ${la2.map((l) => l.toFixed(2)).join(" ")}`);

  const resultsDir = process.env.BENCH_RESULTS_DIR || join(here, "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "scale.json"),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        config,
        loadAverage: { before: la.map((l) => round(l, 2)), after: la2.map((l) => round(l, 2)) },
        seeding: { small: seedSmall, large: seedLarge },
        startup: Object.fromEntries(
          [["small", small], ["large", large]].map(([k, s]) => [k, { healthyMs: Math.round(s.healthyMs), firstEncryptMs: Math.round(s.firstEncryptMs), healthyCpuMs: s.healthyCpuMs, firstEncryptCpuMs: s.firstEncryptCpuMs }]),
        ),
        primed,
        memory: { atStart: memAtStart, afterLoad: mem },
        rounds,
        ratio,
        ratioOfMeans,
        listing,
        aims,
      },
      (k, v) => (k === "rootToken" ? undefined : v),
      2,
    ) + "\n",
  );
  console.log(`wrote ${join(resultsDir, "scale.json")}`);
}

const stopAll = () => Promise.all([...children].map((e) => stopServer({ entry: e })));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}
let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`\nbench FAILED: ${err instanceof Error ? err.stack : String(err)}`);
  exitCode = 1;
} finally {
  await stopAll();
  if (keepDir === undefined) rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
