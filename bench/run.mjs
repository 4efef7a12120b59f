/**
 * HTTP benchmark: Tessera's Encrypt and GenerateDataKey against a bare node:http server that parses
 * and answers JSON of the same size (bench/bare-server.mjs), measured in the same run, each server in
 * its own process and the load generator (autocannon, keep-alive) in this one. A second bare server,
 * the *durable* baseline, also appends a record of Tessera's size per request and answers only once
 * it is datasynced (group commit, as Tessera's audit file in `sync` mode): the part of Tessera's cost
 * that no KMS acknowledging only durable records avoids. A third, the *floor* (bench/floor-server.mjs),
 * is Fastify with Tessera's options, parser and schemas, a token hash, one XAES-256-GCM seal with
 * Tessera's own code and the same durable record: what the aims' request costs with nothing of the
 * door, the audit chain or the detectors. Prints a table, the ratios tessera/bare, tessera/durable
 * baseline, tessera/floor and restricted-token/root-token, checks the aims of docs/performance.md
 * (against the bare server), and writes bench/results/latest.json. Any socket error, timeout or
 * non-2xx answer fails the run.
 *
 *   npm run bench                       # builds, then runs this file
 *   BENCH_SECONDS=10                    # measured seconds per scenario (default 10)
 *   BENCH_WARMUP_SECONDS=3              # unmeasured warm-up before each scenario (default 3)
 *   BENCH_CONNECTIONS=1,16,64           # encrypt runs at each; datakey and the aims use the largest
 *   BENCH_ROUNDS=1                      # the encrypt scenarios (bare, root, restricted, workers) this many
 *                                       # times, interleaved; ratios are taken within each round and the
 *                                       # aims use their median, so drift on a shared machine falls on
 *                                       # both sides of each ratio (default 1)
 *   BENCH_ONLY=encrypt,datakey,audit    # which to run (default all): audit is bench/audit-durability.mjs —
 *                                       # bytes per audit request record, Encrypt @1 and @64 with
 *                                       # audit.durability sync and batch
 *   BENCH_PLAINTEXT_BYTES=256           # Encrypt plaintext size (default 256)
 *   BENCH_RESTRICTED_GRANTS='[…]'       # grants of the policy-checked token (default: Encrypt and
 *                                       # GenerateDataKey on bench-key only)
 *   BENCH_ROOT_TOKEN=tsr_…              # the dev server's root token (default: random)
 *   BENCH_WORKERS=2                     # also run Encrypt (root token, largest connection count) against a
 *                                       # server with this many workers (bench/tessera-workers-server.mjs,
 *                                       # durable audit file per worker) and compare it with the one-process
 *                                       # server in the same run (default 0: not run)
 *   BENCH_AUDIT_DURABILITY=batch        # the workers server's audit.durability (default: sync)
 *   BENCH_DURABLE_RECORD_BYTES=131     # the durable baseline's record per request (default 131: Tessera's
 *                                       # measured request record); 0 = no durable baseline and no floor
 *   BENCH_FLOOR=0                       # leave out the floor (default 1: run it beside the durable baseline)
 *   BENCH_CPU_PROF=1                    # write a --cpu-prof of each server to bench/results/prof/<server>/
 *   BENCH_RESULTS_DIR=/path             # write latest.json and profiles there instead of bench/results/
 *                                       # (summarise with bench/cpu-profile-summary.mjs)
 *
 * Besides throughput and latency it reports, per scenario, the CPU time the server process spent per
 * request and how busy the server, the load generator and everything else on the machine were (in
 * cores, from Linux /proc): whether a number is limited by the server or by the load generator
 * sharing the machine, and how much other work disturbed it.
 */
import { execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { auditDurability } from "./audit-durability.mjs";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// BENCH_RESULTS_DIR: where latest.json (and profiles) go; the suite's smoke run uses a temporary one.
const resultsDir = process.env.BENCH_RESULTS_DIR || join(here, "results");

// ── configuration ───────────────────────────────────────────────────────────────────────────────

function envInt(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

const KEY_NAME = "bench-key";
const config = {
  seconds: envInt("BENCH_SECONDS", 10, 1, 600),
  warmupSeconds: envInt("BENCH_WARMUP_SECONDS", 3, 0, 60),
  connections: (process.env.BENCH_CONNECTIONS || "1,16,64").split(",").map((c) => {
    const n = Number(c.trim());
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`BENCH_CONNECTIONS must list integers in 1..1024, got "${c}"`);
    return n;
  }),
  only: new Set((process.env.BENCH_ONLY || "encrypt,datakey,audit").split(",").map((s) => s.trim())),
  plaintextBytes: envInt("BENCH_PLAINTEXT_BYTES", 256, 1, 4096),
  restrictedGrants: JSON.parse(
    process.env.BENCH_RESTRICTED_GRANTS || JSON.stringify([{ actions: ["kms:Encrypt", "kms:GenerateDataKey"], resources: [KEY_NAME] }]),
  ),
  rootToken: process.env.BENCH_ROOT_TOKEN || `tsr_bench_${randomBytes(24).toString("hex")}`,
  cpuProfile: process.env.BENCH_CPU_PROF === "1",
  workers: envInt("BENCH_WORKERS", 0, 0, 64),
  rounds: envInt("BENCH_ROUNDS", 1, 1, 20),
  durableRecordBytes: envInt("BENCH_DURABLE_RECORD_BYTES", 131, 0, 65536),
  floor: envInt("BENCH_FLOOR", 1, 0, 1) === 1,
};
for (const op of config.only) if (op !== "encrypt" && op !== "datakey" && op !== "audit") throw new Error(`BENCH_ONLY: unknown operation "${op}" (encrypt, datakey, audit)`);
const mainConnections = Math.max(...config.connections);

/** The aims from the issue, checked at `mainConnections`. */
const AIMS = { encryptRatioMin: 0.5, p99MaxMs: 10, workersSpeedupMin: 1.5, nativeCpuUsMax: 45 };

// ── child processes ─────────────────────────────────────────────────────────────────────────────

const children = new Set();

/** Forks a server script; resolves once `ready` says so. Output is kept (last 8 KiB) for errors. */
function startChild(name, script, { env, execArgv = [] }) {
  const child = fork(join(here, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const entry = { name, child, exited, output: () => output };
  children.add(entry);
  exited.then(() => children.delete(entry));
  return entry;
}

async function stopChild(entry, graceMs = 5000) {
  if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
  entry.child.kill("SIGTERM");
  const timer = setTimeout(() => entry.child.kill("SIGKILL"), graceMs);
  await entry.exited;
  clearTimeout(timer);
}

/** Directories the run made (the durable baseline's trail); removed once the children are stopped. */
const temporaryDirs = [];
const stopAll = () =>
  Promise.all([...children].map((c) => stopChild(c))).then(() => {
    for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Rejects if the child exits before `promise` settles. */
function unlessExits(entry, promise) {
  return Promise.race([
    promise,
    entry.exited.then(({ code, signal }) => {
      throw new Error(`${entry.name} exited early (code ${code}, signal ${signal}):\n${entry.output()}`);
    }),
  ]);
}

/** A server with several workers (primary + workers); resolves with its URL and the root token its primary made. */
async function startTesseraWorkers() {
  const port = await freePort();
  const entry = startChild("tessera-workers", "tessera-workers-server.mjs", { env: { BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_WORKERS: String(config.workers) }, execArgv: TESSERA_NODE_FLAGS });
  const rootToken = await unlessExits(
    entry,
    new Promise((resolve, reject) => {
      entry.child.once("message", (m) => resolve(m.rootToken));
      setTimeout(() => reject(new Error(`the workers server did not start within 90 s:\n${entry.output()}`)), 90_000).unref();
    }),
  );
  return { entry, url: `http://127.0.0.1:${port}`, rootToken, tree: true };
}

function profileArgs(name) {
  if (!config.cpuProfile) return [];
  const dir = join(resultsDir, "prof", name);
  mkdirSync(dir, { recursive: true });
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

async function startTessera() {
  const port = await freePort();
  const entry = startChild("tessera", "tessera-server.mjs", {
    env: { BENCH_LISTEN: `127.0.0.1:${port}`, BENCH_ROOT_TOKEN: config.rootToken },
    execArgv: [...TESSERA_NODE_FLAGS, ...profileArgs("tessera")],
  });
  const url = `http://127.0.0.1:${port}`;
  await unlessExits(
    entry,
    (async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if ((await fetch(`${url}/v1/sys/health`)).status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`tessera did not become healthy within 30 s:\n${entry.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
  );
  return { entry, url };
}

/** The bare server; with `durableDir`, the durable baseline writing its records there. */
async function startBare(shapes, durableDir) {
  const name = durableDir === undefined ? "bare" : "bare-durable";
  const durable = durableDir === undefined ? {} : { BENCH_DURABLE_RECORD_BYTES: String(config.durableRecordBytes), BENCH_DURABLE_DIR: durableDir };
  const entry = startChild(name, "bare-server.mjs", { env: { BENCH_SHAPES: JSON.stringify(shapes), ...durable }, execArgv: profileArgs(name) });
  return { entry, url: await reportedUrl(entry, "bare server") };
}

/** The URL of a baseline server once it reports `{ port }` over IPC (10 s at most). */
function reportedUrl(entry, what) {
  return unlessExits(
    entry,
    new Promise((resolve, reject) => {
      entry.child.once("message", (m) => resolve(`http://127.0.0.1:${m.port}`));
      setTimeout(() => reject(new Error(`${what} did not start within 10 s:\n${entry.output()}`)), 10_000).unref();
    }),
  );
}

/** The floor (floor-server.mjs): accepts the root token; its durable records go to `durableDir`. */
async function startFloor(durableDir) {
  const env = { BENCH_FLOOR_TOKEN: config.rootToken, BENCH_DURABLE_RECORD_BYTES: String(config.durableRecordBytes), BENCH_DURABLE_DIR: durableDir };
  const entry = startChild("floor", "floor-server.mjs", { env, execArgv: [...TESSERA_NODE_FLAGS, ...profileArgs("floor")] });
  return { entry, url: await reportedUrl(entry, "the floor server") };
}

// ── HTTP set-up calls ───────────────────────────────────────────────────────────────────────────

async function call(base, method, path, token, body, expectStatus) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { "x-tessera-token": token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expectStatus) throw new Error(`${method} ${path}: expected ${expectStatus}, got ${res.status}: ${text}`);
  return { text, json: text ? JSON.parse(text) : undefined };
}

// ── measurement ─────────────────────────────────────────────────────────────────────────────────

let clockTicksPerSecond;
/** CPU time a process and its direct children (a primary's workers) have used so far, in ms. */
function treeCpuMs(pid) {
  const own = processCpuMs(pid);
  if (own === undefined) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "pid (comm) ": state, then ppid.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== pid) continue;
    } catch {
      continue;
    }
    const child = processCpuMs(Number(entry));
    if (child !== undefined) {
      own.user += child.user;
      own.system += child.system;
    }
  }
  return own;
}

/** CPU time a process has used so far, in ms, from /proc; undefined elsewhere. */
function processCpuMs(pid) {
  try {
    clockTicksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "pid (comm) ", utime and stime are the 12th and 13th fields (proc(5): 14 and 15).
    return { user: (Number(fields[11]) * 1000) / clockTicksPerSecond, system: (Number(fields[12]) * 1000) / clockTicksPerSecond };
  } catch {
    return undefined;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/**
 * One autocannon run. Latencies are taken from every 2xx response with sub-millisecond resolution
 * (autocannon's own histogram keeps whole milliseconds only).
 */
async function load({ url, token, body, connections, seconds, serverPid, tree = false }) {
  const latencies = [];
  const cpuOf = tree ? treeCpuMs : processCpuMs;
  const serverCpuBefore = cpuOf(serverPid);
  const machineBefore = machineBusyMs();
  const clientCpuBefore = process.cpuUsage();
  const instance = autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { "x-tessera-token": token } : {}) },
    body,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
  });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const r = await instance;
  const serverCpuAfter = serverCpuBefore === undefined ? undefined : cpuOf(serverPid);
  const serverUserMs = serverCpuAfter === undefined ? undefined : serverCpuAfter.user - serverCpuBefore.user;
  const serverSystemMs = serverCpuAfter === undefined ? undefined : serverCpuAfter.system - serverCpuBefore.system;
  const serverCpuMs = serverCpuAfter === undefined ? undefined : serverUserMs + serverSystemMs;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000;
  const machineMs = machineBefore === undefined ? undefined : machineBusyMs() - machineBefore;
  // Everything else on the machine (other people's tests, the idle server): noise to report.
  const otherCpuMs = machineMs === undefined || serverCpuMs === undefined ? undefined : Math.max(0, machineMs - serverCpuMs - clientCpuMs);
  const sorted = Float64Array.from(latencies).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    requestsPerSecond: Math.round(sorted.length / r.duration),
    requests: sorted.length,
    durationSeconds: r.duration,
    latencyMs: {
      mean: round(mean, 3),
      p50: round(percentile(sorted, 0.5), 3),
      p90: round(percentile(sorted, 0.9), 3),
      p99: round(percentile(sorted, 0.99), 3),
      max: round(sorted[sorted.length - 1] ?? NaN, 3),
    },
    // Fraction of one core; the machine has cpus().length of them.
    serverCpu: serverCpuMs === undefined ? null : round(serverCpuMs / 1000 / r.duration, 2),
    clientCpu: round(clientCpuMs / 1000 / r.duration, 2),
    otherCpu: otherCpuMs === undefined ? null : round(otherCpuMs / 1000 / r.duration, 2),
    serverCpuUsPerRequest: serverCpuMs === undefined || sorted.length === 0 ? null : round((serverCpuMs * 1000) / sorted.length, 1),
    // Of which in the kernel (socket reads and writes, mostly).
    serverSystemCpuUsPerRequest: serverCpuMs === undefined || sorted.length === 0 ? null : round((serverSystemMs * 1000) / sorted.length, 1),
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: r.statusCodeStats,
  };
}

const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Busy CPU time of the whole machine so far, in ms (all cores), from /proc/stat; undefined elsewhere. */
function machineBusyMs() {
  try {
    clockTicksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
    return (busy * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

// ── the run ─────────────────────────────────────────────────────────────────────────────────────

function scenarios(tessera, bare, bareDurable, floor, restrictedToken, workers) {
  const encryptPath = `/v1/keys/${KEY_NAME}/encrypt`;
  const datakeyPath = `/v1/keys/${KEY_NAME}/generate-data-key`;
  const encryptBody = JSON.stringify({ plaintext: randomBytes(config.plaintextBytes).toString("base64") });
  const datakeyBody = JSON.stringify({ keySpec: "AES_256" });
  const list = [];
  for (let round = 1; round <= config.rounds; round++) {
    const tag = config.rounds > 1 ? ` #${round}` : "";
    if (config.only.has("encrypt")) {
      for (const c of config.connections) {
        list.push({ name: `bare (encrypt-shaped)${tag}`, round, op: "encrypt", target: "bare", token: "none", connections: c, url: bare.url + encryptPath, body: encryptBody, pid: bare.entry.child.pid });
        if (bareDurable !== undefined) {
          list.push({ name: `bare, durable record (encrypt-shaped)${tag}`, round, op: "encrypt", target: "bare-durable", token: "none", connections: c, url: bareDurable.url + encryptPath, body: encryptBody, pid: bareDurable.entry.child.pid });
        }
        if (floor !== undefined) {
          list.push({ name: `floor: Fastify, XAES, durable record${tag}`, round, op: "encrypt", target: "floor", token: "root", connections: c, url: floor.url + encryptPath, body: encryptBody, auth: config.rootToken, pid: floor.entry.child.pid });
        }
        list.push({ name: `tessera encrypt, root token${tag}`, round, op: "encrypt", target: "tessera", token: "root", connections: c, url: tessera.url + encryptPath, body: encryptBody, auth: config.rootToken, pid: tessera.entry.child.pid });
        list.push({ name: `tessera encrypt, restricted token${tag}`, round, op: "encrypt", target: "tessera", token: "restricted", connections: c, url: tessera.url + encryptPath, body: encryptBody, auth: restrictedToken, pid: tessera.entry.child.pid });
      }
    }
    if (workers !== undefined) {
      list.push({ name: `tessera encrypt, root token, ${config.workers} workers${tag}`, round, op: "encrypt", target: "tessera-workers", token: "root", connections: mainConnections, url: workers.url + encryptPath, body: encryptBody, auth: workers.rootToken, pid: workers.entry.child.pid, tree: true });
    }
  }
  if (config.only.has("datakey")) {
    list.push({ name: "bare (datakey-shaped)", round: 1, op: "datakey", target: "bare", token: "none", connections: mainConnections, url: bare.url + datakeyPath, body: datakeyBody, pid: bare.entry.child.pid });
    list.push({ name: "tessera generate-data-key, root", round: 1, op: "datakey", target: "tessera", token: "root", connections: mainConnections, url: tessera.url + datakeyPath, body: datakeyBody, auth: config.rootToken, pid: tessera.entry.child.pid });
  }
  return list;
}

function machine() {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  return { cpus: cpus().length, cpuModel, node: process.version, platform: `${process.platform} ${process.arch}` };
}

function printTable(rows) {
  const head = ["scenario", "conns", "req/s", "mean ms", "p50 ms", "p99 ms", "max ms", "server CPU µs/req (sys)", "server CPU", "client CPU", "other CPU", "errors", "non-2xx"];
  const lines = rows.map((r) => [
    r.name,
    String(r.connections),
    String(r.requestsPerSecond),
    r.latencyMs.mean.toFixed(2),
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p99.toFixed(2),
    r.latencyMs.max.toFixed(2),
    r.serverCpuUsPerRequest === null ? "n/a" : `${r.serverCpuUsPerRequest.toFixed(1)} (${r.serverSystemCpuUsPerRequest.toFixed(1)})`,
    r.serverCpu === null ? "n/a" : `${Math.round(r.serverCpu * 100)}%`,
    `${Math.round(r.clientCpu * 100)}%`,
    r.otherCpu === null ? "n/a" : `${Math.round(r.otherCpu * 100)}%`,
    String(r.errors + r.timeouts),
    String(r.non2xx),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  console.log(fmt(head));
  console.log("|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const l of lines) console.log(fmt(l));
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * A ratio of two scenarios' throughput, taken within each round (the two ran minutes apart at most)
 * and summarised as the median over rounds; `rounds` lists each round's value.
 */
function ratioOf(rows, name, connections, top, bottom, metric = (x) => x.requestsPerSecond) {
  const values = [];
  for (let r = 1; r <= config.rounds; r++) {
    const a = rows.find((x) => x.round === r && top(x) && x.connections === connections);
    const b = rows.find((x) => x.round === r && bottom(x) && x.connections === connections);
    if (a && b && metric(a) !== null && metric(b) !== null) values.push(metric(a) / metric(b));
  }
  return values.length === 0 ? undefined : { name, connections, value: round(median(values), 3), rounds: values.map((v) => round(v, 3)) };
}

const is = (op, target, token) => (r) => r.op === op && r.target === target && r.token === token;

function ratios(rows) {
  const out = [];
  const push = (x) => x !== undefined && out.push(x);
  for (const c of config.connections) {
    push(ratioOf(rows, `encrypt tessera(root)/bare @${c}`, c, is("encrypt", "tessera", "root"), is("encrypt", "bare", "none")));
    push(ratioOf(rows, `encrypt tessera(restricted)/bare @${c}`, c, is("encrypt", "tessera", "restricted"), is("encrypt", "bare", "none")));
    push(ratioOf(rows, `encrypt tessera(root)/durable baseline @${c}`, c, is("encrypt", "tessera", "root"), is("encrypt", "bare-durable", "none")));
    push(ratioOf(rows, `encrypt durable baseline/bare @${c}`, c, is("encrypt", "bare-durable", "none"), is("encrypt", "bare", "none")));
    push(ratioOf(rows, `encrypt floor/bare @${c}`, c, is("encrypt", "floor", "root"), is("encrypt", "bare", "none")));
    push(ratioOf(rows, `encrypt tessera(root)/floor @${c}`, c, is("encrypt", "tessera", "root"), is("encrypt", "floor", "root")));
    push(ratioOf(rows, `encrypt restricted/root @${c}`, c, is("encrypt", "tessera", "restricted"), is("encrypt", "tessera", "root")));
    // Server CPU per request, bare's over Tessera's: the throughput ratio two CPU-bound servers would
    // show on one free core each, and much less disturbed than throughput by other work on the machine.
    const cpu = (x) => x.serverCpuUsPerRequest;
    push(ratioOf(rows, `encrypt server CPU/req bare/tessera(root) @${c}`, c, is("encrypt", "bare", "none"), is("encrypt", "tessera", "root"), cpu));
    push(ratioOf(rows, `encrypt server CPU/req bare/tessera(restricted) @${c}`, c, is("encrypt", "bare", "none"), is("encrypt", "tessera", "restricted"), cpu));
    push(ratioOf(rows, `encrypt server CPU/req durable baseline/tessera(root) @${c}`, c, is("encrypt", "bare-durable", "none"), is("encrypt", "tessera", "root"), cpu));
    push(ratioOf(rows, `encrypt server CPU/req bare/floor @${c}`, c, is("encrypt", "bare", "none"), is("encrypt", "floor", "root"), cpu));
  }
  push(ratioOf(rows, `encrypt ${config.workers} workers/1 worker @${mainConnections}`, mainConnections, is("encrypt", "tessera-workers", "root"), is("encrypt", "tessera", "root")));
  push(ratioOf(rows, `generate-data-key tessera/bare @${mainConnections}`, mainConnections, is("datakey", "tessera", "root"), is("datakey", "bare", "none")));
  return out;
}

function aims(rows) {
  const out = [];
  const medianP99 = (match) => {
    const p99s = rows.filter((r) => match(r) && r.connections === mainConnections).map((r) => r.latencyMs.p99);
    return p99s.length === 0 ? undefined : round(median(p99s), 2);
  };
  const suffix = config.rounds > 1 ? ` (median of ${config.rounds} rounds)` : "";
  for (const token of ["root", "restricted"]) {
    const ratio = ratioOf(rows, "", mainConnections, is("encrypt", "tessera", token), is("encrypt", "bare", "none"));
    if (ratio) out.push({ aim: `encrypt (${token}) throughput >= ${AIMS.encryptRatioMin} x bare @${mainConnections}${suffix}`, value: ratio.value, met: ratio.value >= AIMS.encryptRatioMin });
    const p99 = medianP99(is("encrypt", "tessera", token));
    if (p99 !== undefined) out.push({ aim: `encrypt (${token}) p99 < ${AIMS.p99MaxMs} ms @${mainConnections}${suffix}`, value: p99, met: p99 < AIMS.p99MaxMs });
  }
  const speedup = ratioOf(rows, "", mainConnections, is("encrypt", "tessera-workers", "root"), is("encrypt", "tessera", "root"));
  if (speedup) out.push({ aim: `encrypt ${config.workers} workers >= ${AIMS.workersSpeedupMin} x 1 worker @${mainConnections}${suffix}`, value: speedup.value, met: speedup.value >= AIMS.workersSpeedupMin });
  return out;
}

/** Medians over rounds at the largest connection count: the floor's CPU a request and throughput against bare's, beside Tessera's CPU. */
function floorSummary(rows) {
  const at = (match) => rows.filter((r) => match(r) && r.connections === mainConnections && r.serverCpuUsPerRequest !== null);
  const floors = at(is("encrypt", "floor", "root"));
  const ratio = ratioOf(rows, "", mainConnections, is("encrypt", "floor", "root"), is("encrypt", "bare", "none"));
  if (floors.length === 0 || ratio === undefined) return undefined;
  const tessera = at(is("encrypt", "tessera", "root"));
  return {
    cpuUsPerRequest: round(median(floors.map((r) => r.serverCpuUsPerRequest)), 1),
    tesseraCpuUsPerRequest: tessera.length === 0 ? null : round(median(tessera.map((r) => r.serverCpuUsPerRequest)), 1),
    ratioToBare: ratio.value,
  };
}

async function main() {
  const started = new Date();
  const load1Before = loadavg();
  console.log(
    `Tessera HTTP benchmark: ${config.seconds} s per scenario after ${config.warmupSeconds} s warm-up; ` +
      `connections ${config.connections.join(", ")}; ${config.plaintextBytes}-byte plaintext; load average ${load1Before.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const m = machine();
  console.log(`${started.toISOString()}; ${m.cpus} CPUs (${m.cpuModel}); node ${m.node}; ${m.platform}`);

  const tessera = await startTessera();
  await call(tessera.url, "POST", "/v1/keys", config.rootToken, { name: KEY_NAME }, 201);

  // Sanity: the operations work, the restricted token is policy-checked (not root), and the
  // baseline answers the same number of bytes.
  const plaintext = randomBytes(config.plaintextBytes).toString("base64");
  const enc = await call(tessera.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, config.rootToken, { plaintext }, 200);
  const dec = await call(tessera.url, "POST", "/v1/decrypt", config.rootToken, { ciphertext: enc.json.ciphertext }, 200);
  if (dec.json.plaintext !== plaintext) throw new Error("sanity check failed: decrypt(encrypt(x)) != x");
  const dk = await call(tessera.url, "POST", `/v1/keys/${KEY_NAME}/generate-data-key`, config.rootToken, { keySpec: "AES_256" }, 200);
  const created = await call(
    tessera.url,
    "POST",
    "/v1/auth/tokens",
    config.rootToken,
    { ttlSeconds: 3600, displayName: "bench-restricted", grants: config.restrictedGrants },
    201,
  );
  const restrictedToken = created.json.token;
  if (created.json.root !== false) throw new Error("sanity check failed: the restricted token is a root token");
  await call(tessera.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, restrictedToken, { plaintext }, 200);
  await call(tessera.url, "POST", "/v1/decrypt", restrictedToken, { ciphertext: enc.json.ciphertext }, 403);

  const shapes = {
    encrypt: { keyId: enc.json.keyId, keyVersion: enc.json.keyVersion, ciphertextLength: enc.json.ciphertext.length },
    datakey: { keyId: dk.json.keyId, keyVersion: dk.json.keyVersion, ciphertextLength: dk.json.ciphertext.length, plaintextLength: dk.json.plaintext.length },
  };
  const bare = await startBare(shapes);
  // The durable baseline writes its trail where the dev server keeps its state: the same file system.
  const durableDir = config.only.has("encrypt") && config.durableRecordBytes > 0 ? mkdtempSync(join(tmpdir(), "tessera-bench-durable-")) : undefined;
  if (durableDir !== undefined) temporaryDirs.push(durableDir);
  const bareDurable = durableDir === undefined ? undefined : await startBare(shapes, durableDir);
  const floor = durableDir === undefined || !config.floor ? undefined : await startFloor(durableDir);
  if (floor !== undefined && (await call(floor.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, config.rootToken, { plaintext }, 200)).text.length !== enc.text.length) {
    throw new Error("sanity check failed: the floor answers another size than tessera");
  }
  if (bareDurable !== undefined && (await call(bareDurable.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, undefined, { plaintext }, 200)).text.length !== enc.text.length) {
    throw new Error("sanity check failed: the durable baseline answers another size than tessera");
  }
  const bareEnc = await call(bare.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, undefined, { plaintext }, 200);
  const bareDk = await call(bare.url, "POST", `/v1/keys/${KEY_NAME}/generate-data-key`, undefined, { keySpec: "AES_256" }, 200);
  if (bareEnc.text.length !== enc.text.length || bareDk.text.length !== dk.text.length) {
    throw new Error(`sanity check failed: bare answers ${bareEnc.text.length}/${bareDk.text.length} bytes, tessera ${enc.text.length}/${dk.text.length}`);
  }
  console.log(`encrypt answer ${enc.text.length} bytes, generate-data-key answer ${dk.text.length} bytes (same from both servers)\n`);

  let workers;
  if (config.workers > 1) {
    workers = await startTesseraWorkers();
    await call(workers.url, "POST", "/v1/keys", workers.rootToken, { name: KEY_NAME }, 201);
    await call(workers.url, "POST", `/v1/keys/${KEY_NAME}/encrypt`, workers.rootToken, { plaintext }, 200);
  }

  const rows = [];
  for (const s of scenarios(tessera, bare, bareDurable, floor, restrictedToken, workers)) {
    process.stdout.write(`${s.name} @${s.connections} … `);
    if (config.warmupSeconds > 0) await load({ url: s.url, token: s.auth, body: s.body, connections: s.connections, seconds: config.warmupSeconds });
    const r = await load({ url: s.url, token: s.auth, body: s.body, connections: s.connections, seconds: config.seconds, serverPid: s.pid, tree: s.tree === true });
    console.log(`${r.requestsPerSecond} req/s, p99 ${r.latencyMs.p99.toFixed(2)} ms`);
    const { url: _url, body: _body, auth: _auth, pid: _pid, tree: _tree, ...meta } = s;
    rows.push({ ...meta, ...r });
  }

  // Audit volume and durability: its own servers (file sink, sync and batch), after the main scenarios.
  let audit;
  if (config.only.has("audit")) {
    console.log("\naudit volume and durability (file sink; sync vs batch in this run):");
    audit = await auditDurability({ seconds: config.seconds, warmupSeconds: config.warmupSeconds, log: console.log });
  }

  const load1After = loadavg();
  console.log("");
  printTable(rows);
  const rs = ratios(rows);
  console.log("\nratios (throughput, and server CPU per request):");
  for (const r of rs) console.log(`  ${r.name.padEnd(50)} ${r.value.toFixed(3)}${r.rounds.length > 1 ? `  (median; rounds ${r.rounds.map((v) => v.toFixed(3)).join(", ")})` : ""}`);
  const as = aims(rows);
  if (audit !== undefined) {
    const b = audit.volume.bytesPerRequestRecord;
    as.push({ aim: "audit request record <= 200 bytes", met: b <= 200, value: `${b.toFixed(1)} bytes (format 1: ${audit.volume.v1BytesPerRequestRecord.toFixed(1)})` });
  }
  console.log("\naims:");
  for (const a of as) console.log(`  ${a.met ? "MET " : "MISS"}  ${a.aim.padEnd(46)} (${a.value})`);
  const fl = floorSummary(rows);
  if (fl !== undefined) {
    console.log(
      `\nthe floor @${mainConnections} (Fastify with Tessera's options and schemas, token hash, XAES-256-GCM, durable record; nothing else):\n` +
        `  ${fl.cpuUsPerRequest} µs of server CPU a request (Tessera, root token: ${fl.tesseraCpuUsPerRequest} µs; the aim for Tessera is <= ${AIMS.nativeCpuUsMax} µs)\n` +
        `  ${fl.ratioToBare} x bare's throughput (the aim for Tessera is >= ${AIMS.encryptRatioMin} x bare)`,
    );
  }

  // More than a tenth of a core of other work during a scenario makes the numbers hard to compare.
  const disturbed = rows.filter((r) => r.otherCpu !== null && r.otherCpu > 0.1);
  if (disturbed.length > 0) {
    console.log(
      `\nWARNING: other processes used CPU during ${disturbed.length} of ${rows.length} scenarios ` +
        `(up to ${Math.round(Math.max(...disturbed.map((r) => r.otherCpu)) * 100)}% of a core); re-run on a quiet machine before quoting these numbers.`,
    );
  }

  const failed = rows.filter((r) => r.errors + r.timeouts + r.non2xx > 0);
  const result = {
    date: started.toISOString(),
    machine: m,
    loadAverage: { before: load1Before.map((l) => round(l, 2)), after: load1After.map((l) => round(l, 2)) },
    config: { ...config, only: [...config.only], rootToken: undefined },
    rows,
    ...(audit !== undefined && { audit }),
    ratios: rs,
    aims: as,
    ...(fl !== undefined && { floor: fl }),
    disturbed: disturbed.length > 0,
    ok: failed.length === 0,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`\nload average ${load1After.map((l) => l.toFixed(2)).join(" ")}; wrote ${join(resultsDir, "latest.json")}`);

  if (failed.length > 0) {
    throw new Error(
      "requests failed: " + failed.map((r) => `${r.name} @${r.connections}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx ${JSON.stringify(r.statusCodes)}`).join("; "),
    );
  }
}

// Everything stops by itself: a watchdog well past the planned duration kills the children and exits.
const planned =
  config.rounds * ((config.only.has("encrypt") ? (config.durableRecordBytes > 0 ? (config.floor ? 5 : 4) : 3) * config.connections.length : 0) + (config.workers > 1 ? 1 : 0)) + (config.only.has("datakey") ? 2 : 0) + (config.only.has("audit") ? 5 : 0);
const budgetMs = (planned * (config.seconds + config.warmupSeconds) + 120) * 1000;
const watchdog = setTimeout(() => {
  console.error(`\nbench: still running after ${budgetMs / 1000} s; giving up`);
  void stopAll().finally(() => process.exit(2));
}, budgetMs);
watchdog.unref();

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`\nbench FAILED: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await stopAll();
  clearTimeout(watchdog);
}
process.exit(exitCode);
