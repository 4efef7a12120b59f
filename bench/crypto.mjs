/**
 * In-process micro-benchmark: Tessera's envelope encryption (encryptEnvelope, the work an Encrypt
 * request does on its key) against raw node:crypto AES-256-GCM on the same input, to show what the
 * cryptography costs per request next to the HTTP numbers of bench/run.mjs.
 *
 *   npx tsc -b packages/protocol packages/server && node bench/crypto.mjs
 *   BENCH_CRYPTO_MS=1000     time per case per round (default 1000); 3 rounds, best round reported
 *   BENCH_PLAINTEXT_BYTES=256
 */
import { createCipheriv, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encryptEnvelope } from "../packages/server/dist/format/envelope.js";

const here = dirname(fileURLToPath(import.meta.url));
const caseMs = Number(process.env.BENCH_CRYPTO_MS || 1000);
const plaintextBytes = Number(process.env.BENCH_PLAINTEXT_BYTES || 256);
const ROUNDS = 3;

const material = randomBytes(32);
const plaintext = randomBytes(plaintextBytes);
const plaintextB64 = plaintext.toString("base64");
const keyId = randomUUID();
// Raw GCM authenticates as many bytes as the envelope's header does (version, algorithm, key id, key version).
const headerSizedAad = randomBytes(23);

let sink = 0;
const cases = {
  "raw AES-256-GCM (node:crypto, random nonce)": () => {
    const nonce = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", material, nonce, { authTagLength: 16 });
    c.setAAD(headerSizedAad);
    const body = c.update(plaintext);
    c.final();
    sink += body.length + c.getAuthTag().length;
  },
  "encryptEnvelope (Tessera format)": () => {
    sink += encryptEnvelope({ algorithm: "AES_256_GCM", keyId, keyVersion: 1, material, plaintext, context: undefined }).length;
  },
  "encryptEnvelope + base64 in/out (per Encrypt request)": () => {
    const pt = Buffer.from(plaintextB64, "base64");
    const ct = encryptEnvelope({ algorithm: "AES_256_GCM", keyId, keyVersion: 1, material, plaintext: pt, context: undefined });
    pt.fill(0);
    sink += Buffer.from(ct.buffer, ct.byteOffset, ct.byteLength).toString("base64").length;
  },
  "randomBytes(12) alone (the nonce)": () => {
    sink += randomBytes(12).length;
  },
};

function measure(fn) {
  // Batches of 1000 between clock reads keep timer overhead out of the numbers.
  const end = performance.now() + caseMs;
  let ops = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
  }
  return ops / ((performance.now() - start) / 1000);
}

for (const fn of Object.values(cases)) for (let i = 0; i < 20_000; i++) fn(); // warm-up (JIT)

const best = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(cases)) best[name] = Math.max(best[name], measure(fn));
}

console.log(`${plaintextBytes}-byte plaintext, best of ${ROUNDS} rounds of ${caseMs} ms, ${process.version}\n`);
const width = Math.max(...Object.keys(best).map((k) => k.length));
for (const [name, opsPerSecond] of Object.entries(best)) {
  console.log(`  ${name.padEnd(width)}  ${Math.round(opsPerSecond).toString().padStart(9)} ops/s  ${(1e6 / opsPerSecond).toFixed(2).padStart(6)} µs/op`);
}
const raw = best["raw AES-256-GCM (node:crypto, random nonce)"];
const envelope = best["encryptEnvelope (Tessera format)"];
const perRequest = best["encryptEnvelope + base64 in/out (per Encrypt request)"];
console.log(`\n  encryptEnvelope / raw GCM throughput: ${(envelope / raw).toFixed(3)}`);

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
