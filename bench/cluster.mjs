/**
 * Several nodes on PostgreSQL, in ONE run on one machine:
 * - Encrypt throughput (256-byte plaintext, keep-alive, autocannon in this process) of one node on
 *   SQLite, one node on PostgreSQL, and two nodes on one PostgreSQL with the same client load spread
 *   over both (autocannon's connections split between the two URLs, as a round-robin balancer would).
 *   Every node is a real `bin/tessera server --config` process with the audit trail in a file (the
 *   default); PostgreSQL is Debian's, started here in a temporary directory with its default
 *   durability (fsync on), as production runs it.
 * - The cost of a key-state change reaching another node: with a probe on node B sending Encrypt
 *   back to back, node A disables the key; the time from the change's write in the database (the
 *   feed's trigger time, database clock, same host) to B's first refusal. Also counts any Encrypt
 *   that B allowed although it was sent after A had answered the disable (must be 0).
 *
 *   npx tsc -b && node bench/cluster.mjs      BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_TRIALS=100
 *
 * Run as root (initdb runs as the `postgres` user via runuser) or as a user who may run initdb.
 */
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const trials = Number(process.env.BENCH_TRIALS ?? 100);
const BIN = fileURLToPath(new URL("../bin/tessera", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tessera-bench-cluster-"));
const plaintext = Buffer.alloc(256, 7).toString("base64");
const children = [];

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- PostgreSQL (as test/helpers/postgres.ts, but durable: fsync on) ---
const asRoot = process.getuid?.() === 0;
const pgBase = "/usr/lib/postgresql";
const versions = existsSync(pgBase) ? readdirSync(pgBase).filter((v) => existsSync(join(pgBase, v, "bin", "initdb"))) : [];
if (versions.length === 0) throw new Error("PostgreSQL is not installed (Debian package `postgresql`)");
const pgBin = join(pgBase, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
const asOwner = (bin, args) => {
  const cmd = join(pgBin, bin);
  const r = asRoot ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" }) : spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stdout}${r.stderr}`);
};
const pgDir = join(dir, "pg");
const pgPassword = `bench-${process.pid}`;
const pwfile = join(dir, "pgpass");
writeFileSync(pwfile, `${pgPassword}\n`, { mode: 0o600 });
if (asRoot) {
  const id = (flag) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  chownSync(dir, id("-u"), id("-g"));
  chownSync(pwfile, id("-u"), id("-g"));
}
asOwner("initdb", ["-D", pgDir, "-U", "tessera", `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]);
const pgPort = await freePort();
asOwner("pg_ctl", ["-D", pgDir, "-l", join(dir, "pg.log"), "-o", `-p ${pgPort} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=100`, "-w", "start"]);
const admin = new pg.Client({ connectionString: `postgres://tessera:${pgPassword}@127.0.0.1:${pgPort}/postgres` });
await admin.connect();
await admin.query("CREATE DATABASE bench");
await admin.end();
const pgUrl = `postgres://tessera@127.0.0.1:${pgPort}/bench`;
const db = new pg.Client({ connectionString: `postgres://tessera:${pgPassword}@127.0.0.1:${pgPort}/bench` });

// --- Tessera nodes ---
async function startNode(name, storage, coherence) {
  const port = await freePort();
  const config = join(dir, `${name}.json`);
  if (coherence !== undefined) storage = { postgres: { ...storage.postgres, coherence } };
  writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage, node_id: name, audit: { file: { path: join(dir, name, "audit.jsonl") } }, log_level: "warn" }));
  const proc = spawn(process.execPath, [BIN, "server", "--config", config], { stdio: ["ignore", "ignore", "inherit"] });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/v1/sys/health`);
      break;
    } catch {
      if (i > 200) throw new Error(`${name} did not start`);
      await sleep(100);
    }
  }
  return { name, url, proc };
}
const call = async (url, token, method, path, body) => {
  const res = await fetch(url + path, { method, headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
};
async function initAndUnseal(nodes) {
  const init = await call(nodes[0].url, undefined, "POST", "/v1/sys/init", { shares: 1, threshold: 1 });
  const share = init.body.shares[0];
  for (const n of nodes) await unseal(n, share);
  const token = init.body.rootToken;
  await call(nodes[0].url, token, "POST", "/v1/keys", { name: "bench-key" });
  return { token, share };
}
async function unseal(node, share) {
  const r = await call(node.url, undefined, "POST", "/v1/sys/unseal", { share });
  if (r.body?.sealed !== false) throw new Error(`${node.name} did not unseal: ${JSON.stringify(r.body)}`);
}
async function stopNodes(nodes) {
  for (const n of nodes) {
    n.proc.kill("SIGTERM");
    await new Promise((r) => (n.proc.exitCode !== null ? r() : n.proc.once("exit", r)));
  }
}
async function encryptLoad(name, urls, token) {
  const opts = { url: urls.map((u) => `${u}/v1/keys/bench-key/encrypt`), method: "POST", headers: { "content-type": "application/json", "x-tessera-token": token }, body: JSON.stringify({ plaintext }), connections };
  await autocannon({ ...opts, duration: 2 });
  const r = await autocannon({ ...opts, duration: seconds });
  if (r.errors || r.non2xx) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
  const line = `  ${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms`;
  console.log(line);
  return line;
}
/** Node A disables a key while a probe on node B sends Encrypt back to back; times the change's write in the database to B's first refusal. */
async function commitToRefusal(mode, a, b, token) {
  const probeKey = `probe-${mode}`;
  const created = await call(a.url, token, "POST", "/v1/keys", { name: probeKey });
  if (created.status !== 201) throw new Error(`create probe key: ${created.status} ${JSON.stringify(created.body)}`);
  const toRefusal = [];
  let lateAllowed = 0;
  let staleEnabled = 0;
  for (let t = 0; t < trials; t++) {
    // B serves the key (cached, enabled) before each trial.
    // (In "notify" mode B may still refuse right after A re-enabled the key: that is the window.)
    for (let i = 0; ; i++) {
      const ready = await call(b.url, token, "POST", `/v1/keys/${probeKey}/encrypt`, { plaintext });
      if (ready.status === 200) break;
      if (i === 0) staleEnabled++;
      if (i > 200) throw new Error(`probe key not usable on B: ${ready.status} ${JSON.stringify(ready.body)}`);
      await sleep(1);
    }
    let ackedAt = Infinity;
    let refusedAt;
    const probe = (async () => {
      for (;;) {
        const sent = performance.now() + performance.timeOrigin;
        const r = await call(b.url, token, "POST", `/v1/keys/${probeKey}/encrypt`, { plaintext });
        if (r.status === 200 && sent > ackedAt) lateAllowed++;
        if (r.body?.error?.code === "Disabled") {
          refusedAt = performance.now() + performance.timeOrigin;
          return;
        }
        if (r.status !== 200) throw new Error(`probe: ${r.status} ${JSON.stringify(r.body)}`);
      }
    })();
    await sleep(2 + Math.random() * 3);
    const before = Number((await db.query("SELECT coalesce(max(version), 0) AS v FROM state_changes")).rows[0].v);
    const disabled = await call(a.url, token, "POST", `/v1/keys/${probeKey}/disable`);
    ackedAt = performance.now() + performance.timeOrigin;
    if (disabled.status !== 200) throw new Error(`disable: ${disabled.status}`);
    await probe;
    const change = await db.query("SELECT min(at) AS at FROM state_changes WHERE version > $1 AND scope LIKE 'key:%'", [before]);
    toRefusal.push(refusedAt - Number(change.rows[0].at));
    if ((await call(a.url, token, "POST", `/v1/keys/${probeKey}/enable`)).status !== 200) throw new Error("enable failed");
  }
  toRefusal.sort((x, y) => x - y);
  const line = `  disabled on A → refused on B (${mode})`.padEnd(36) + ` median ${quantile(toRefusal, 0.5).toFixed(1)} ms   p99 ${quantile(toRefusal, 0.99).toFixed(1)} ms   max ${toRefusal.at(-1).toFixed(1)} ms   (${trials} trials; B allowed after A answered the disable: ${lateAllowed}; B refused right after A answered the enable: ${staleEnabled})`;
  console.log(line);
  return line;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

try {
  console.log(`cluster bench: ${seconds} s per run, ${connections} connections, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${new Date().toISOString()}`);
  const out = [];

  mkdirSync(join(dir, "sqlite"));
  const sqliteNode = [await startNode("sqlite", { sqlite: { path: join(dir, "sqlite", "tessera.db") } })];
  out.push(await encryptLoad("1 node, SQLite", [sqliteNode[0].url], (await initAndUnseal(sqliteNode)).token));
  await stopNodes(sqliteNode);

  const storage = { postgres: { url: pgUrl, password_file: pwfile } };
  await db.connect();
  let token;
  let share;
  for (const mode of ["per-request", "notify"]) {
    const a = await startNode("node-a", storage, mode);
    if (token === undefined) ({ token, share } = await initAndUnseal([a]));
    else await unseal(a, share);
    out.push(await encryptLoad(`1 node, PostgreSQL (${mode})`, [a.url], token));
    const b = await startNode("node-b", storage, mode);
    await unseal(b, share);
    out.push(await encryptLoad(`2 nodes, one PostgreSQL (${mode})`, [a.url, b.url], token));
    out.push(await commitToRefusal(mode, a, b, token));
    await stopNodes([a, b]);
  }
  await db.end();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await sleep(500);
  try {
    asOwner("pg_ctl", ["-D", pgDir, "-m", "immediate", "-w", "stop"]);
  } catch {
    // already stopped
  }
  rmSync(dir, { recursive: true, force: true });
}
