/**
 * In-process benchmark of signing and verification per algorithm: Tessera's signers
 * (crypto/signers.ts, the work a Sign or Verify request does on its key) against raw node:crypto
 * sign/verify on the same key and message, in the same run. RAW messages go to OpenSSL in both, so
 * the ratio is Tessera's overhead; DIGEST rows show what signing a caller's hash costs (PKCS#1 v1.5
 * natively, PSS as EMSA-PSS around raw RSA, ECDSA through @noble/curves) against the same baseline.
 *
 *   npx tsc -b packages/protocol packages/server && node bench/sign.mjs
 *   BENCH_SIGN_MS=300       time per case per round (default 300)
 *   BENCH_SIGN_ROUNDS=3     rounds; within a round the baseline and Tessera alternate; the best round of each is reported
 *   BENCH_SIGN_CLOCK=wall   or `cpu`: count this process's CPU time, for a machine other work keeps busy
 */
import { constants, createHash, generateKeyPairSync, sign, verify } from "node:crypto";
import { signers } from "../packages/server/dist/crypto/signers.js";

const caseMs = Number(process.env.BENCH_SIGN_MS || 300);
const ROUNDS = Number(process.env.BENCH_SIGN_ROUNDS || 3);
const cpuClock = process.env.BENCH_SIGN_CLOCK === "cpu";
/** Milliseconds on the chosen clock: wall time, or user + system CPU time of this process. */
const now = cpuClock
  ? () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    }
  : () => performance.now();
const message = Buffer.from("a 64-byte message to sign, about the size of a token or a digest..");

/** Best of ROUNDS interleaved measurements of each function (machines shared with other work are noisy). */
function best(fns) {
  const out = fns.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) fns.forEach((fn, i) => (out[i] = Math.max(out[i], opsPerSecond(fn))));
  return out;
}

function opsPerSecond(fn) {
  for (let i = 0; i < 3; i++) fn(); // warm up
  let n = 0;
  const start = now();
  let elapsed = 0;
  while ((elapsed = now() - start) < caseMs) {
    fn();
    n++;
  }
  return (n * 1000) / elapsed;
}

const rsa = (bits) => generateKeyPairSync("rsa", { modulusLength: bits });
const cases = [
  ["RSA_2048", "RSASSA_PSS_SHA_256", rsa(2048), "sha256", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", null, "sha256", { padding: constants.RSA_PKCS1_PADDING }],
  ["RSA_3072", "RSASSA_PSS_SHA_384", rsa(3072), "sha384", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
  ["RSA_4096", "RSASSA_PSS_SHA_512", rsa(4096), "sha512", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  ["ECC_NIST_P256", "ECDSA_SHA_256", generateKeyPairSync("ec", { namedCurve: "prime256v1" }), "sha256", {}],
  ["ECC_NIST_P384", "ECDSA_SHA_384", generateKeyPairSync("ec", { namedCurve: "secp384r1" }), "sha384", {}],
  ["ECC_NIST_P521", "ECDSA_SHA_512", generateKeyPairSync("ec", { namedCurve: "secp521r1" }), "sha512", {}],
  ["ECC_SECG_P256K1", "ECDSA_SHA_256", generateKeyPairSync("ec", { namedCurve: "secp256k1" }), "sha256", {}],
  ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", generateKeyPairSync("ed25519"), null, {}],
  ["ML_DSA_44", "ML_DSA_SHAKE_256", generateKeyPairSync("ml-dsa-44"), null, {}],
  ["ML_DSA_65", "ML_DSA_SHAKE_256", generateKeyPairSync("ml-dsa-65"), null, {}],
  ["ML_DSA_87", "ML_DSA_SHAKE_256", generateKeyPairSync("ml-dsa-87"), null, {}],
];
cases[1][2] = cases[0][2];

const rows = [];
for (const [spec, algorithm, { privateKey, publicKey }, hash, opts] of cases) {
  const signer = signers[algorithm];
  const rawSig = sign(hash, message, { key: privateKey, ...opts });
  const [baseSign, ourSign, baseVerify, ourVerify] = best([
    () => sign(hash, message, { key: privateKey, ...opts }),
    () => signer.sign(privateKey, message, "RAW"),
    () => verify(hash, message, { key: publicKey, ...opts }, rawSig),
    () => signer.verify(publicKey, message, "RAW", rawSig),
  ]);
  rows.push([spec, algorithm, "RAW", baseSign, ourSign, baseVerify, ourVerify]);
  if (hash !== null) {
    const digest = createHash(hash).update(message).digest();
    const digestSig = signer.sign(privateKey, digest, "DIGEST");
    const [digSign, digVerify] = best([() => signer.sign(privateKey, digest, "DIGEST"), () => signer.verify(publicKey, digest, "DIGEST", digestSig)]);
    rows.push([spec, algorithm, "DIGEST", baseSign, digSign, baseVerify, digVerify]);
  }
}

const f = (x) => Math.round(x).toLocaleString("en-US");
const r = (a, b) => (b / a).toFixed(2);
console.log(`node ${process.version}, best of ${ROUNDS} rounds of ${caseMs} ms (${cpuClock ? "CPU" : "wall"}) per case; baseline = raw node:crypto sign/verify of the RAW message with the same key\n`);
console.log("| Key spec | Algorithm | Message | sign ops/s: node:crypto | Tessera | ratio | verify ops/s: node:crypto | Tessera | ratio |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [spec, algorithm, type, bs, os, bv, ov] of rows) {
  console.log(`| ${spec} | ${algorithm} | ${type} | ${f(bs)} | ${f(os)} | ${r(bs, os)} | ${f(bv)} | ${f(ov)} | ${r(bv, ov)} |`);
}
