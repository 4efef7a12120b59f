/**
 * The root of trust, in process, real SQLite files and a real SoftHSM2:
 *
 * 1. Unseal time after a restart, the PKCS#11 seal (SoftHSM2, aes_gcm) beside the Shamir seal
 *    (3 of 5 shares) in the same run, median of several restarts each:
 *    - "start → unsealed": a new app on the database (store opened, migrations checked, services
 *      built) until the barrier is open — for the HSM with nothing typed (module loaded, C_Initialize,
 *      session, login, C_Decrypt of the root), for Shamir with the three shares submitted at once;
 *    - "unseal alone": sealNow() on a running app, then unsealed again (HSM: the auto-unseal attempt
 *      on the open session; Shamir: three submits).
 * 2. Backup and restore of N keys (default 100,000; written straight into the store in transactions
 *    of 5,000, each key's material sealed under the root as KeyService.create does, not via HTTP):
 *    GET /v1/sys/backup and POST /v1/sys/restore into a fresh node through Fastify's inject (the full
 *    route, no sockets); time, bytes and rows. Restore is into an empty node with a quorum of shares.
 *
 *   npx tsc -b && node bench/root-of-trust.mjs
 *   BENCH_KEYS=100000  BENCH_RESTARTS=7  BENCH_BACKUPS=3
 * Needs softhsm2 (/usr/lib/softhsm/libsofthsm2.so; `npm test` installs it) and pkcs11js.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { ManualClock, Pkcs11Seal, ShamirSeal, SqliteStore, buildApp } from "../packages/server/dist/index.js";
import { keyVersionAad } from "../packages/server/dist/format/keyring-record.js";

const KEYS = Number(process.env.BENCH_KEYS || 100_000);
const RESTARTS = Number(process.env.BENCH_RESTARTS || 7);
const BACKUPS = Number(process.env.BENCH_BACKUPS || 3);
const MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const PIN = "1234";

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-rot-"));
const tokens = join(dir, "tokens");
mkdirSync(tokens);
const conf = join(dir, "softhsm2.conf");
writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
process.env.SOFTHSM2_CONF = conf;
execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "bench", "--so-pin", "5678", "--pin", PIN], { stdio: "ignore" });

const clock = new ManualClock(Date.UTC(2026, 10, 29, 12));
const hsmOptions = { lib: MODULE, tokenLabel: "bench", pin: PIN, keyLabels: ["tessera-root"], mechanism: "aes_gcm", generateKey: true };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;

async function call(app, method, url, body, token) {
  const res = await app.http.inject({
    method,
    url,
    headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  const json = String(res.headers["content-type"] ?? "").startsWith("application/json");
  return { status: res.statusCode, body: json && res.body ? JSON.parse(res.body) : undefined, raw: res.rawPayload };
}

const open = (db, seal, store = new SqliteStore({ path: db })) => buildApp({ store, clock, seal, logger: false, autoUnseal: { initialDelayMs: 5, maxDelayMs: 50 } });

/** N symmetric keys as KeyService.create writes them (one version, material sealed under the current root). */
async function createKeys(app, store, n) {
  const now = clock.now();
  for (let i = 0; i < n; i += 5000) {
    const ring = app.barrier.ring();
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(n, i + 5000); j++) {
        const id = randomUUID();
        await tx.keys.insert({
          id, name: `bench-${j}`, description: "", tags: {}, keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT", state: "Enabled", priorState: null,
          derived: false, exportable: false, createdAt: now, primaryVersion: 1, minDecryptionVersion: 1, rotationPeriodSeconds: null, lastRotatedAt: now,
          deletionDate: null, destroyedAt: null, revision: 1,
        });
        const material = randomBytes(32);
        await tx.versions.insert({ keyId: id, version: 1, state: "Enabled", createdAt: now, material: ring.seal(material, keyVersionAad(id, 1)), lastUsedAt: null, useCount: 0, destroyedAt: null });
        material.fill(0);
      }
    });
  }
}

async function untilUnsealed(app) {
  while (app.barrier.sealed) await new Promise((r) => setImmediate(r));
}

async function unsealTimes(kind) {
  const db = join(dir, `${kind}.db`);
  const seal = () => (kind === "hsm" ? Pkcs11Seal.create(hsmOptions) : new ShamirSeal());
  const first = await open(db, await seal());
  const init = (await call(first, "POST", "/v1/sys/init", { shares: 5, threshold: 3 })).body;
  const submit = async (app) => {
    for (const share of init.shares.slice(0, 3)) await app.barrier.unseal(share);
  };
  if (kind === "shamir") await submit(first);
  await first.close();
  const cold = [];
  const warm = [];
  for (let i = 0; i < RESTARTS; i++) {
    const t0 = performance.now();
    const app = await open(db, await seal());
    if (kind === "shamir") await submit(app);
    await untilUnsealed(app);
    cold.push(performance.now() - t0);
    app.barrier.sealNow();
    const t1 = performance.now();
    if (kind === "hsm") await app.autoUnseal.attempt();
    else await submit(app);
    if (app.barrier.sealed) throw new Error(`${kind}: not unsealed`);
    warm.push(performance.now() - t1);
    await app.close();
  }
  return { cold: median(cold), warm: median(warm), coldAll: cold, warmAll: warm };
}

async function backupRestore() {
  const db = join(dir, "keys.db");
  const store = new SqliteStore({ path: db });
  const app = await open(db, new ShamirSeal(), store);
  const init = (await call(app, "POST", "/v1/sys/init", { shares: 3, threshold: 2 })).body;
  for (const share of init.shares.slice(0, 2)) await app.barrier.unseal(share);
  const t0 = performance.now();
  await createKeys(app, store, KEYS);
  const createMs = performance.now() - t0;
  const dbBytes = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  const backups = [];
  let file;
  for (let i = 0; i < BACKUPS; i++) {
    const t = performance.now();
    const r = await call(app, "GET", "/v1/sys/backup", undefined, init.rootToken);
    backups.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`backup: ${r.status}`);
    file = r.raw;
  }
  await app.close();
  const restores = [];
  let rows = 0;
  for (let i = 0; i < BACKUPS; i++) {
    const target = await open(join(dir, `restore-${i}.db`), new ShamirSeal());
    const t = performance.now();
    const res = await target.http.inject({
      method: "POST",
      url: "/v1/sys/restore",
      headers: { "content-type": "application/vnd.tessera.restore" },
      payload: Buffer.concat([Buffer.from(`${JSON.stringify({ shares: init.shares.slice(0, 2) })}\n`), file]),
    });
    restores.push(performance.now() - t);
    const body = JSON.parse(res.body);
    if (res.statusCode !== 200) throw new Error(`restore: ${res.body}`);
    rows = body.rows;
    if (i === 0) {
      // Spot check: a key restored opens under the restored root.
      const handle = await target.keys.keyring.resolve(`bench-${KEYS - 1}`);
      if (handle.material(1)?.length !== 32) throw new Error("restored key does not open");
    }
    await target.close();
  }
  return { createMs, dbBytes, backup: median(backups), restore: median(restores), bytes: file.length, rows, backups, restores };
}

try {
  console.log(`root of trust — Node ${process.version}, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const shamir = await unsealTimes("shamir");
  const hsm = await unsealTimes("hsm");
  console.log(`\nunseal after a restart, median of ${RESTARTS}:`);
  console.log(`  ${"seal".padEnd(34)}${"start → unsealed".padStart(18)}${"unseal alone".padStart(16)}`);
  console.log(`  ${"shamir (3 of 5 shares)".padEnd(34)}${ms(shamir.cold).padStart(18)}${ms(shamir.warm).padStart(16)}`);
  console.log(`  ${"pkcs11 (SoftHSM2 2.6, aes_gcm)".padEnd(34)}${ms(hsm.cold).padStart(18)}${ms(hsm.warm).padStart(16)}`);
  console.log(`  (all: shamir ${shamir.coldAll.map((x) => x.toFixed(1)).join(" ")} / ${shamir.warmAll.map((x) => x.toFixed(1)).join(" ")}; pkcs11 ${hsm.coldAll.map((x) => x.toFixed(1)).join(" ")} / ${hsm.warmAll.map((x) => x.toFixed(1)).join(" ")})`);
  const b = await backupRestore();
  console.log(`\n${KEYS} keys (written into the store in ${(b.createMs / 1000).toFixed(1)} s; database ${(b.dbBytes / 1048576).toFixed(1)} MiB):`);
  console.log(`  backup   median ${ms(b.backup)} of ${BACKUPS} (${b.backups.map((x) => x.toFixed(0)).join(", ")}), ${b.bytes} bytes (${(b.bytes / 1048576).toFixed(1)} MiB, ${(b.bytes / KEYS).toFixed(0)} B/key)`);
  console.log(`  restore  median ${ms(b.restore)} of ${BACKUPS} (${b.restores.map((x) => x.toFixed(0)).join(", ")}), ${b.rows} rows, into an empty node with 2 of 3 shares`);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
