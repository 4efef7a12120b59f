/**
 * In-process micro-benchmark: Tessera's envelope encryption (encryptEnvelope, the work an Encrypt
 * request does on its key) in ciphertext format v2 (XAES-256-GCM, what the server writes) and v1
 * (AES-256-GCM, what it wrote before), against raw node:crypto AES-256-GCM on the same input — all
 * in the same run — to show what the cryptography and format v2 cost per request next to the HTTP
 * numbers of bench/run.mjs.
 *
 *   npx tsc -b packages/protocol packages/server && node bench/crypto.mjs
 *   BENCH_CRYPTO_MS=1000     time per case per round (default 1000)
 *   BENCH_CRYPTO_ROUNDS=3    rounds, cases interleaved within each; the best round is reported
 *   BENCH_CRYPTO_CLOCK=wall  or `cpu`: count this process's CPU time instead of wall time, for a
 *                            machine that other work keeps busy (the ratios stay comparable)
 *   BENCH_PLAINTEXT_BYTES=256
 */
import { createCipheriv, createSecretKey, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCiphertext } from "../packages/protocol/dist/index.js";
import { decryptEnvelope, encryptEnvelope } from "../packages/server/dist/format/envelope.js";
import { XaesKey } from "../packages/server/dist/crypto/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const caseMs = Number(process.env.BENCH_CRYPTO_MS || 1000);
const plaintextBytes = Number(process.env.BENCH_PLAINTEXT_BYTES || 256);
const ROUNDS = Number(process.env.BENCH_CRYPTO_ROUNDS || 3);
const cpuClock = process.env.BENCH_CRYPTO_CLOCK === "cpu";
/** Milliseconds on the chosen clock: wall time, or user + system CPU time of this process. */
const now = cpuClock
  ? () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    }
  : () => performance.now();

const material = randomBytes(32);
const plaintext = randomBytes(plaintextBytes);
const plaintextB64 = plaintext.toString("base64");
const keyId = randomUUID();
// Raw GCM authenticates as many bytes as the envelope's header does (version, algorithm, key id, key version).
const headerSizedAad = randomBytes(23);

const sealedV1 = encryptEnvelope({ algorithm: "AES_256_GCM", keyId, keyVersion: 1, material, plaintext, context: undefined });
const sealedV2 = encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material, plaintext, context: undefined });

// The keyring prepares each version's XAES key once (spec steps 1–2); the server encrypts with it.
const prepared = new XaesKey(material);

const RAW = "raw AES-256-GCM (node:crypto, random nonce)";
// The baseline keys the cipher with a KeyObject made once: on Node 24 a raw key buffer costs about
// 10 µs more per cipher (crypto/secret-key.ts), and the baseline should be node:crypto at its best.
const materialKey = createSecretKey(material);
const V1 = "encryptEnvelope v1 (AES-256-GCM)";
const V2 = "encryptEnvelope v2 (XAES-256-GCM, prepared key)";
const V2_RAW_KEY = "encryptEnvelope v2 (XAES-256-GCM, key not prepared)";
const OPEN_V1 = "decryptEnvelope v1 (parse + open)";
const OPEN_V2 = "decryptEnvelope v2 (parse + open, prepared key)";
const PER_REQUEST = "encryptEnvelope v2 + base64 in/out (per Encrypt request)";

let sink = 0;
const cases = {
  [RAW]: () => {
    const nonce = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", materialKey, nonce, { authTagLength: 16 });
    c.setAAD(headerSizedAad);
    const body = c.update(plaintext);
    c.final();
    sink += body.length + c.getAuthTag().length;
  },
  [V1]: () => {
    sink += encryptEnvelope({ algorithm: "AES_256_GCM", keyId, keyVersion: 1, material, plaintext, context: undefined }).length;
  },
  [V2]: () => {
    sink += encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material, prepared, plaintext, context: undefined }).length;
  },
  [V2_RAW_KEY]: () => {
    sink += encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material, plaintext, context: undefined }).length;
  },
  [OPEN_V1]: () => {
    sink += decryptEnvelope(parseCiphertext(sealedV1), material, undefined).length;
  },
  [OPEN_V2]: () => {
    sink += decryptEnvelope(parseCiphertext(sealedV2), material, undefined, prepared).length;
  },
  [PER_REQUEST]: () => {
    const pt = Buffer.from(plaintextB64, "base64");
    const ct = encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material, prepared, plaintext: pt, context: undefined });
    pt.fill(0);
    sink += Buffer.from(ct.buffer, ct.byteOffset, ct.byteLength).toString("base64").length;
  },
  "randomBytes(12) alone (the nonce)": () => {
    sink += randomBytes(12).length;
  },
};

function measure(fn) {
  // Batches of 1000 between clock reads keep timer overhead out of the numbers.
  const start = now();
  const end = start + caseMs;
  let ops = 0;
  while (now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
  }
  return ops / ((now() - start) / 1000);
}

for (const fn of Object.values(cases)) for (let i = 0; i < 20_000; i++) fn(); // warm-up (JIT)

const best = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(cases)) best[name] = Math.max(best[name], measure(fn));
}

console.log(`${plaintextBytes}-byte plaintext, best of ${ROUNDS} rounds of ${caseMs} ms (${cpuClock ? "process CPU" : "wall"} time), ${process.version}\n`);
const width = Math.max(...Object.keys(best).map((k) => k.length));
for (const [name, opsPerSecond] of Object.entries(best)) {
  console.log(`  ${name.padEnd(width)}  ${Math.round(opsPerSecond).toString().padStart(9)} ops/s  ${(1e6 / opsPerSecond).toFixed(2).padStart(6)} µs/op`);
}
const raw = best[RAW];
const perRequest = best[PER_REQUEST];
console.log("\n  throughput ratios (same run):");
console.log(`    encrypt v1 / raw GCM   ${(best[V1] / raw).toFixed(3)}`);
console.log(`    encrypt v2 / raw GCM   ${(best[V2] / raw).toFixed(3)}`);
console.log(`    encrypt v2 / v1        ${(best[V2] / best[V1]).toFixed(3)}   (format v2 costs ${(1e6 / best[V2] - 1e6 / best[V1]).toFixed(2)} µs more per message)`);
console.log(`    v2 unprepared / v1     ${(best[V2_RAW_KEY] / best[V1]).toFixed(3)}   (what preparing the key once per version saves: ${(1e6 / best[V2_RAW_KEY] - 1e6 / best[V2]).toFixed(2)} µs)`);
console.log(`    decrypt v2 / v1        ${(best[OPEN_V2] / best[OPEN_V1]).toFixed(3)}`);

// Set against the server CPU one Encrypt request costs in the last HTTP run, when there is one.
try {
  const latest = JSON.parse(readFileSync(join(here, "results", "latest.json"), "utf8"));
  const row = latest.rows
    .filter((r) => r.op === "encrypt" && r.target === "tessera" && r.token === "root" && r.serverCpuUsPerRequest !== null)
    .sort((a, b) => b.connections - a.connections)[0];
  if (row) {
    const share = (1e6 / perRequest / row.serverCpuUsPerRequest) * 100;
    console.log(
      `  per-request crypto ${(1e6 / perRequest).toFixed(2)} µs = ${share.toFixed(1)}% of the ${row.serverCpuUsPerRequest} µs of server CPU ` +
        `an Encrypt request cost in bench/results/latest.json (${row.connections} connections, ${latest.date})`,
    );
  }
} catch {
  // no HTTP run yet
}
if (sink === 0) console.log(""); // keep the work observable
