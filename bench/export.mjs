/**
 * Wrapped-export benchmark: operations per second of POST /v1/keys/{key}/export for each algorithm,
 * through the API of a dev server in its own process (bench/tessera-server.mjs), beside Derive on the
 * same key in the same run (the same door, policy and audit, with no public-key cryptography), and
 * the bare cost of the wrapping alone in this process (the server's crypto/export-wrap.ts, no HTTP).
 *
 *   npm run build && node bench/export.mjs
 *   BENCH_SECONDS=5             measured seconds per scenario (default 5)
 *   BENCH_WARMUP_SECONDS=2      unmeasured warm-up before each (default 2)
 *   BENCH_CONNECTIONS=16        concurrent keep-alive connections (default 16)
 *
 * Recipient keys are made here with node:crypto (X-Wing with @hpke/hybridkem-x-wing; SM2 as an EC key
 * on the SM2 curve, whose SPKI is the id-ecPublicKey + sm2p256v1 form sm2pke takes). The export kind
 * is key-material (32 bytes), so every algorithm wraps the same payload.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { startTessera } from "./api-load.mjs";
import { XWing } from "@hpke/hybridkem-x-wing";

const int = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const seconds = int("BENCH_SECONDS", 5);
const warmup = int("BENCH_WARMUP_SECONDS", 2);
const connections = int("BENCH_CONNECTIONS", 16);

const pem = (k) => k.export({ type: "spki", format: "pem" }).toString();
async function recipients() {
  const xwing = await new XWing().generateKeyPair();
  const raw = Buffer.from(await new XWing().serializePublicKey(xwing.publicKey));
  const body = Buffer.concat([Buffer.from("300d060b2b0601040183e62d81c87a", "hex"), Buffer.from("038204c100", "hex"), raw]);
  const spki = Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
  return {
    "hpke-p256": pem(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey),
    "hpke-x25519": pem(generateKeyPairSync("x25519").publicKey),
    "hpke-xwing": `-----BEGIN PUBLIC KEY-----\n${spki.toString("base64").match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`,
    "rsa-oaep-aes-kwp": pem(generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey),
    sm2pke: pem(generateKeyPairSync("ec", { namedCurve: "SM2" }).publicKey),
  };
}

async function measure(load, path, body) {
  if (warmup > 0) await load(path, body, warmup);
  return load(path, body, seconds);
}

/** The wrapping alone, in this process, through the server's own module. */
async function bare(algorithm, pemKey) {
  const { parseRecipientKey, wrapToRecipient } = await import("../packages/server/dist/crypto/index.js");
  const recipient = parseRecipientKey(pemKey, algorithm);
  const payload = randomBytes(32);
  const info = Buffer.from("tessera/v1/export|bench");
  // As format/export-binding.ts: RSA binds through info only, SM2 through aad only.
  const empty = Buffer.alloc(0);
  const [i, a] = algorithm === "rsa-oaep-aes-kwp" ? [info, empty] : algorithm === "sm2pke" ? [empty, info] : [info, info];
  for (let k = 0; k < 50; k++) await wrapToRecipient(recipient, payload, i, a);
  const n = 500;
  const t = performance.now();
  for (let k = 0; k < n; k++) await wrapToRecipient(recipient, payload, i, a);
  return (n * 1000) / (performance.now() - t);
}

const { call, load, stop } = await startTessera({ connections });
try {
  await call("/v1/keys", { name: "bench-export", exportable: true }, 201);
  const keys = await recipients();
  const rows = [];
  const derive = await measure(load, "/v1/keys/bench-export/derive", { context: { vm: "web-7" } });
  rows.push({ operation: "derive (baseline)", ...derive, bare: NaN });
  for (const [algorithm, recipientPublicKey] of Object.entries(keys)) {
    const r = await measure(load, "/v1/keys/bench-export/export", { recipientPublicKey, algorithm });
    rows.push({ operation: `export ${algorithm}`, ...r, bare: await bare(algorithm, recipientPublicKey) });
  }
  console.log(`connections ${connections}, ${seconds} s each after ${warmup} s warm-up; Node ${process.versions.node}`);
  console.log("operation                     ops/s   p50 ms  p99 ms  ×derive  wrap alone ops/s");
  for (const r of rows) {
    console.log(
      `${r.operation.padEnd(28)}${r.opsPerSecond.toFixed(0).padStart(7)}${String(r.p50).padStart(9)}${String(r.p99).padStart(8)}${(r.opsPerSecond / derive.opsPerSecond).toFixed(3).padStart(9)}${(Number.isNaN(r.bare) ? "-" : r.bare.toFixed(0)).padStart(18)}`,
    );
  }
} finally {
  stop();
}
