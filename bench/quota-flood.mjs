/**
 * Fair share under load (docs/operations.md, "Quotas"): well-behaved clients' latency while one
 * principal floods the server, with its role's quota and without one, against no flood — all in the
 * same run, on one real server (bench/tessera-server.mjs with a configuration file: SQLite, the audit
 * trail in a file fsynced before each answer, per-role quotas), rounds alternating so drift hits each.
 *
 *   - "web": BENCH_WEB_CONNECTIONS connections (default 8), each at BENCH_WEB_RATE requests/s
 *     (default 50), one token of role `web` (a generous quota of its own), native Encrypt.
 *   - "flood": one principal, BENCH_FLOOD_CONNECTIONS connections (default 16) at full speed, from a
 *     separate process: role `flood` (quota BENCH_FLOOD_QUOTA requests/s, burst the same; default 100)
 *     or role `flood-unlimited` (no quota).
 *
 * Reports web p50/p99 per scenario, the flood's answered and throttled counts, and — after the server
 * stopped (flushing pending summaries) — the trail: how many records the throttled requests left and
 * that their counts (`detail.suppressed`, 1 for a record of its own) add up to every 429 the flood got.
 * Prints the aim (web p99 < 10 ms while the flood is throttled) and whether it is met; the load average.
 *
 *   npm run build && node bench/quota-flood.mjs
 *   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_ROUNDS=2
 *   BENCH_ONLY=throttled                # scenarios to run: none,throttled,unlimited (default all)
 *   BENCH_REFUSAL_DELAY_MS=0            # quotas.refusal_delay_ms (default: the server's, 1,000 ms)
 *   BENCH_CPU_PROF=1                    # a --cpu-prof of the server in bench/results/prof/quota-flood/
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { TrailDecoder } from "../packages/audit/dist/index.js";
import autocannon from "autocannon";
import { freePort } from "./api-load.mjs";
import { TESSERA_NODE_FLAGS } from "./node-flags.mjs";

const here = fileURLToPath(import.meta.url);
const int = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

// ── the flooding client: this file forked with --flood (its own process, so its load generator never
//    shares the measuring one's event loop) ──────────────────────────────────────────────────────
if (process.argv[2] === "--flood") {
  const { url, token, body, connections, seconds } = JSON.parse(process.argv[3]);
  const cpu0 = process.cpuUsage();
  const r = await autocannon({ url, method: "POST", headers: { "content-type": "application/json", "x-tessera-token": token }, body, connections, duration: seconds, timeout: 10 });
  const cpu = process.cpuUsage(cpu0);
  // Cores this load generator kept busy: on one machine it competes with the server and the web clients.
  const cores = (cpu.user + cpu.system) / 1e6 / r.duration;
  process.send({ requests: r.requests.total, statusCodes: r.statusCodeStats, errors: r.errors, timeouts: r.timeouts, duration: r.duration, cores });
  process.disconnect();
  process.exit(0);
}

const seconds = int("BENCH_SECONDS", 10);
const warmup = int("BENCH_WARMUP_SECONDS", 2);
const rounds = int("BENCH_ROUNDS", 2);
const webConnections = int("BENCH_WEB_CONNECTIONS", 8);
const webRate = int("BENCH_WEB_RATE", 50);
const floodConnections = int("BENCH_FLOOD_CONNECTIONS", 16);
const floodQuota = int("BENCH_FLOOD_QUOTA", 100);
const AIM_P99_MS = 10;

const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]);

// ── the server ───────────────────────────────────────────────────────────────────────────────────
const dir = mkdtempSync(join(tmpdir(), "tessera-quota-bench-"));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const auditPath = join(dir, "audit.jsonl");
writeFileSync(
  join(dir, "tessera.json"),
  JSON.stringify({
    listener: { address: `127.0.0.1:${port}`, insecure_http: true },
    storage: { sqlite: { path: join(dir, "tessera.db") } },
    audit: { file: { path: auditPath } },
    log_level: "warn",
    // `web` has a quota far above its use, so its requests pass the gate as any limited principal's do.
    quotas: {
      roles: { web: { per_second: 10_000, burst: 10_000 }, flood: { per_second: floodQuota, burst: floodQuota } },
      ...(process.env.BENCH_REFUSAL_DELAY_MS !== undefined && { refusal_delay_ms: int("BENCH_REFUSAL_DELAY_MS", 1000) }),
    },
  }),
);
const profDir = join(dirname(here), "results", "prof", "quota-flood");
if (process.env.BENCH_CPU_PROF === "1") mkdirSync(profDir, { recursive: true });
const server = fork(join(dirname(here), "tessera-server.mjs"), [], {
  env: { ...process.env, BENCH_CONFIG: join(dir, "tessera.json") },
  execArgv: [...TESSERA_NODE_FLAGS, ...(process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [])],
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const serverExited = new Promise((resolve) => server.once("exit", resolve));
let stopped = false;
async function stopServer() {
  if (stopped) return;
  stopped = true;
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await serverExited;
  clearTimeout(timer);
}

async function call(method, path, token, body, expect) {
  const res = await fetch(url + path, { method, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** CPU seconds a process has used so far (Linux /proc: utime + stime). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/** The web clients at their modest rate for `duration` s: latencies of their 2xx answers (sub-ms). */
async function web(token, body, duration) {
  const latencies = [];
  const instance = autocannon({
    url: `${url}/v1/keys/bench-key/encrypt`,
    method: "POST",
    headers: { "content-type": "application/json", "x-tessera-token": token },
    body,
    connections: webConnections,
    connectionRate: webRate,
    duration,
    timeout: 10,
  });
  instance.on("response", (_c, status, _b, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const r = await instance;
  const sorted = Float64Array.from(latencies).sort();
  return { answered: sorted.length, p50: round(percentile(sorted, 0.5), 3), p99: round(percentile(sorted, 0.99), 3), max: round(sorted[sorted.length - 1] ?? NaN, 3), failed: r.non2xx + r.errors + r.timeouts };
}

function flood(token, body, duration) {
  const child = fork(here, ["--flood", JSON.stringify({ url: `${url}/v1/keys/bench-key/encrypt`, token, body, connections: floodConnections, seconds: duration })], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => code !== 0 && reject(new Error(`flood client exited with ${code}`)));
  });
}

try {
  for (let deadline = Date.now() + 30_000; ; ) {
    try {
      await fetch(`${url}/v1/sys/health`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("tessera did not start listening within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const init = await call("POST", "/v1/sys/init", undefined, { shares: 1, threshold: 1 }, 200);
  await call("POST", "/v1/sys/unseal", undefined, { share: init.shares[0] }, 200);
  const root = init.rootToken;
  await call("POST", "/v1/keys", root, { name: "bench-key" }, 201);
  await call("PUT", "/v1/policies/bench-encrypt", root, { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["bench-key"] }] }, 200);
  const tokens = {};
  for (const role of ["web", "flood", "flood-unlimited"]) {
    await call("PUT", `/v1/roles/${role}`, root, { policies: ["bench-encrypt"], tokenTtlSeconds: 3600, approle: {} }, 200);
    const { roleId } = await call("GET", `/v1/auth/approle/roles/${role}/role-id`, root, undefined, 200);
    const { secretId } = await call("POST", `/v1/auth/approle/roles/${role}/secret-id`, root, {}, 201);
    tokens[role] = (await call("POST", "/v1/auth/approle/login", undefined, { roleId, secretId }, 200)).token;
  }
  const body = JSON.stringify({ plaintext: randomBytes(256).toString("base64") });
  // Sanity: each role encrypts; the flood role is throttled once its burst is spent.
  for (const role of Object.keys(tokens)) await call("POST", "/v1/keys/bench-key/encrypt", tokens[role], JSON.parse(body), 200);

  const loadBefore = loadavg();
  console.log(
    `quota flood: ${webConnections} web connections at ${webRate} req/s each; flood ${floodConnections} connections at full speed, quota ${floodQuota}/s, refusals held ${process.env.BENCH_REFUSAL_DELAY_MS ?? "1000 (default)"} ms; ` +
      `${rounds} rounds of ${seconds} s (+${warmup} s warm-up); ${cpus().length} CPUs; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const only = new Set((process.env.BENCH_ONLY || "none,throttled,unlimited").split(","));
  const scenarios = [
    { key: "none", name: "no flood", flood: null },
    { key: "throttled", name: "flood, throttled (quota)", flood: "flood" },
    { key: "unlimited", name: "flood, no quota", flood: "flood-unlimited" },
  ].filter((s) => only.has(s.key));
  const results = new Map(scenarios.map((s) => [s.name, []]));
  let throttledSeen = 0;
  for (let r = 0; r < rounds; r++) {
    for (const s of scenarios) {
      const total = warmup + seconds;
      const floodRun = s.flood === null ? undefined : flood(tokens[s.flood], body, total + 1);
      if (warmup > 0) await web(tokens.web, body, warmup);
      const cpu0 = cpuSeconds(server.pid);
      const w = await web(tokens.web, body, seconds);
      const serverCpu = (cpuSeconds(server.pid) - cpu0) / seconds;
      const f = floodRun === undefined ? undefined : await floodRun;
      const ok = f === undefined ? 0 : Object.entries(f.statusCodes).filter(([c]) => c.startsWith("2")).reduce((n, [, v]) => n + v.count, 0);
      const throttled = f?.statusCodes["429"]?.count ?? 0;
      throttledSeen += throttled;
      const other = f === undefined ? 0 : Object.entries(f.statusCodes).filter(([c]) => !c.startsWith("2") && c !== "429").reduce((n, [, v]) => n + v.count, 0) + f.errors + f.timeouts;
      const row = { ...w, serverCpu: round(serverCpu), flood: f === undefined ? null : { answered: ok, throttled, other, perSecond: Math.round((ok + throttled) / f.duration), cores: round(f.cores) } };
      results.get(s.name).push(row);
      console.log(
        `  round ${r + 1} ${s.name.padEnd(26)} web p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms (${w.answered} answered, ${w.failed} failed); server CPU ${Math.round(serverCpu * 100)}%` +
          (row.flood === null ? "" : `; flood ${row.flood.perSecond} req/s: ${ok} answered, ${throttled} throttled${other > 0 ? `, ${other} other` : ""} (its load generator: ${Math.round(row.flood.cores * 100)}% of a core)`),
      );
    }
  }
  const loadAfter = loadavg();

  await stopServer();
  // The trail: every 429 is a record of its own (while the source's refusal budget lasts) or counted in a summary.
  // Compact (format 2) request records refer to contexts spelt out earlier in the file: decode in order.
  const decoder = new TrailDecoder();
  const records = readFileSync(auditPath, "utf8").split("\n").filter(Boolean).map((l) => decoder.decode(l));
  const throttledRecords = records.filter((x) => x.errorCode === "Throttled");
  const summaries = throttledRecords.filter((x) => x.detail?.suppressed !== undefined);
  const counted = throttledRecords.reduce((n, x) => n + (x.detail?.suppressed ?? 1), 0);
  // The server refuses (and counts) requests whose answers arrive after the load generator stopped
  // listening: up to one per flood connection per throttled run beyond the 429s the client saw.
  const inFlight = floodConnections * rounds;
  const allCounted = counted >= throttledSeen && counted - throttledSeen <= inFlight;
  console.log(
    `\ntrail: ${records.length} records, ${readFileSync(auditPath).length} bytes; ${throttledSeen} 429s seen by the flood, ${throttledRecords.length} Throttled records ` +
      `(${throttledRecords.length - summaries.length} on their own, ${summaries.length} summaries) counting ${counted} refusals — ` +
      `${allCounted ? `all counted (${counted - throttledSeen} answered after the client stopped, at most ${inFlight})` : "MISMATCH"}`,
  );

  console.log("\n| scenario (per round) | web p50 ms | web p99 ms | web max ms | web answered | flood req/s | flood answered | flood throttled | server CPU |");
  console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
  const summary = {};
  for (const s of scenarios) {
    const rows = results.get(s.name);
    const worst = (k) => Math.max(...rows.map((x) => x[k]));
    const sum = (f) => rows.reduce((n, x) => n + f(x), 0);
    summary[s.name] = { p50: worst("p50"), p99: worst("p99") };
    console.log(
      `| ${s.name} | ${rows.map((x) => x.p50.toFixed(2)).join(" / ")} | ${rows.map((x) => x.p99.toFixed(2)).join(" / ")} | ${worst("max").toFixed(2)} | ${sum((x) => x.answered)} | ` +
        `${s.flood === null ? "—" : rows.map((x) => x.flood.perSecond).join(" / ")} | ${s.flood === null ? "—" : sum((x) => x.flood.answered)} | ${s.flood === null ? "—" : sum((x) => x.flood.throttled)} | ` +
        `${rows.map((x) => `${Math.round(x.serverCpu * 100)}%`).join(" / ")} |`,
    );
  }
  const p99 = summary["flood, throttled (quota)"]?.p99 ?? NaN;
  console.log(`\naim: web p99 < ${AIM_P99_MS} ms while the flood is throttled (worst round): ${p99.toFixed(2)} ms — ${p99 < AIM_P99_MS ? "MET" : "MISS"}`);
  console.log(`aim: the throttled flood's refusals are summarised in the trail and all counted: ${allCounted && summaries.length > 0 ? "MET" : "MISS"}`);
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`);
  if (Math.max(...loadBefore.slice(0, 1), ...loadAfter.slice(0, 1)) > cpus().length) {
    console.log(`WARNING: the load average exceeded the ${cpus().length} CPUs: other work on the machine shaped these latencies; re-run on a quiet machine before quoting them.`);
  }
  const failures = [...results.values()].flat().filter((x) => x.failed > 0 || (x.flood !== null && x.flood.other > 0));
  if (failures.length > 0) throw new Error(`${failures.length} scenario runs had failed requests (other than the flood's 429s)`);
} finally {
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
}
