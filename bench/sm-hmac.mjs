/**
 * In-process micro-benchmark of the Chinese commercial algorithms and HMAC, each beside a raw
 * node:crypto baseline measured in the same run (cases interleaved, best of several rounds):
 *
 * - SM4-GCM (sm-crypto-v2, what SM4 keys encrypt with) and the whole format-v3 envelope, against
 *   raw AES-256-GCM and the format-v2 envelope (what AES keys use);
 * - HMAC_SHA_256 and HMAC_SM3 through crypto/hmac.ts (KeyObject), against raw createHmac;
 * - SM2DSA sign and verify, SM2PKE encrypt and decrypt (sm-crypto-v2 on @noble/curves), against
 *   node:crypto ECDSA P-256 sign/verify (OpenSSL) — the nearest native operation, not an equivalent.
 *
 *   npx tsc -b packages/protocol packages/server && node bench/sm-hmac.mjs
 *   BENCH_CRYPTO_MS=500      time per case per round (default 500)
 *   BENCH_CRYPTO_ROUNDS=3    rounds; the best is reported
 *   BENCH_PLAINTEXT_BYTES=256
 */
import { createCipheriv, createHmac, createSecretKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify } from "node:crypto";
import { parseCiphertext } from "../packages/protocol/dist/index.js";
import { decryptEnvelope, encryptEnvelope } from "../packages/server/dist/format/envelope.js";
import { Sm2PrivateKey, XaesKey, hmac, sm2Decrypt, sm2Encrypt, sm2Sign, sm2Verify, sm4GcmSeal, verifyHmac } from "../packages/server/dist/crypto/index.js";

const caseMs = Number(process.env.BENCH_CRYPTO_MS || 500);
const ROUNDS = Number(process.env.BENCH_CRYPTO_ROUNDS || 3);
const size = Number(process.env.BENCH_PLAINTEXT_BYTES || 256);

const plaintext = randomBytes(size);
const aad = randomBytes(23);
const aesKey = randomBytes(32);
const aesKeyObject = createSecretKey(aesKey);
const sm4Key = randomBytes(16);
const macKey = randomBytes(32);
const macKeyObject = createSecretKey(macKey);
const keyId = randomUUID();
const prepared = new XaesKey(aesKey);
const v2 = encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material: aesKey, plaintext, context: undefined });
const v3 = encryptEnvelope({ algorithm: "SM4_GCM", keyId, keyVersion: 1, material: sm4Key, plaintext, context: undefined });
const sm2 = Sm2PrivateKey.generate();
const sm2Sig = sm2Sign(sm2, { message: plaintext });
sm2.publicKey.point(); // the keyring would keep the prepared point per version
const sm2Ct = sm2Encrypt(sm2.publicKey, plaintext.subarray(0, 32));
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const p256Sig = sign("sha256", plaintext, p256.privateKey);
const macSha = hmac("HMAC_SHA_256", macKeyObject, plaintext);
const macSm3 = hmac("HMAC_SM3", macKeyObject, plaintext);

let sink = 0;
const cases = [
  ["symmetric", "raw AES-256-GCM (node:crypto)", () => { const c = createCipheriv("aes-256-gcm", aesKeyObject, randomBytes(12)); c.setAAD(aad); sink += c.update(plaintext).length + c.final().length + c.getAuthTag().length; }],
  ["symmetric", "SM4-GCM (sm-crypto-v2)", () => { sink += sm4GcmSeal(sm4Key, plaintext, aad).sealed.length; }],
  ["symmetric", "encryptEnvelope v2 (XAES-256-GCM, AES keys)", () => { sink += encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 1, material: aesKey, plaintext, context: undefined, prepared }).length; }],
  ["symmetric", "encryptEnvelope v3 (SM4-GCM, SM4 keys)", () => { sink += encryptEnvelope({ algorithm: "SM4_GCM", keyId, keyVersion: 1, material: sm4Key, plaintext, context: undefined }).length; }],
  ["symmetric", "decryptEnvelope v2", () => { sink += decryptEnvelope(parseCiphertext(v2), aesKey, undefined, prepared).length; }],
  ["symmetric", "decryptEnvelope v3", () => { sink += decryptEnvelope(parseCiphertext(v3), sm4Key, undefined).length; }],
  ["mac", "raw createHmac sha256 (KeyObject)", () => { sink += createHmac("sha256", macKeyObject).update(plaintext).digest().length; }],
  ["mac", "hmac HMAC_SHA_256", () => { sink += hmac("HMAC_SHA_256", macKeyObject, plaintext).length; }],
  ["mac", "hmac HMAC_SM3", () => { sink += hmac("HMAC_SM3", macKeyObject, plaintext).length; }],
  ["mac", "verifyHmac HMAC_SHA_256", () => { sink += verifyHmac("HMAC_SHA_256", macKeyObject, plaintext, macSha) ? 1 : 0; }],
  ["mac", "verifyHmac HMAC_SM3", () => { sink += verifyHmac("HMAC_SM3", macKeyObject, plaintext, macSm3) ? 1 : 0; }],
  ["asymmetric", "ECDSA P-256 sign (node:crypto)", () => { sink += sign("sha256", plaintext, p256.privateKey).length; }],
  ["asymmetric", "ECDSA P-256 verify (node:crypto)", () => { sink += verify("sha256", plaintext, p256.publicKey, p256Sig) ? 1 : 0; }],
  ["asymmetric", "SM2DSA sign (default id)", () => { sink += sm2Sign(sm2, { message: plaintext }).length; }],
  ["asymmetric", "SM2DSA verify (prepared point)", () => { sink += sm2Verify(sm2.publicKey, { message: plaintext }, sm2Sig) ? 1 : 0; }],
  ["asymmetric", "SM2PKE encrypt 32 bytes (prepared point)", () => { sink += sm2Encrypt(sm2.publicKey, plaintext.subarray(0, 32)).length; }],
  ["asymmetric", "SM2PKE decrypt 32 bytes", () => { sink += sm2Decrypt(sm2, sm2Ct).length; }],
];

function run(fn) {
  const end = performance.now() + caseMs;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
  }
  return (n * 1000) / (performance.now() - start);
}

for (const [, , fn] of cases) for (let i = 0; i < 50; i++) fn(); // warm up
const best = new Map();
for (let r = 0; r < ROUNDS; r++) {
  for (const [, name, fn] of cases) best.set(name, Math.max(best.get(name) ?? 0, run(fn)));
}
const baselines = { symmetric: "raw AES-256-GCM (node:crypto)", mac: "raw createHmac sha256 (KeyObject)", asymmetric: "ECDSA P-256 sign (node:crypto)" };
console.log(`plaintext/message ${size} bytes, best of ${ROUNDS} rounds × ${caseMs} ms, Node ${process.version}`);
console.log("| group | case | ops/s | µs/op | × baseline |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const [group, name] of cases) {
  const ops = best.get(name);
  console.log(`| ${group} | ${name} | ${Math.round(ops).toLocaleString("en")} | ${(1e6 / ops).toFixed(1)} | ${(ops / best.get(baselines[group])).toFixed(3)} |`);
}
if (sink === 0) console.log("(nothing ran)");
