/**
 * Sign and Verify through the API: requests per second of POST /v1/keys/{key}/sign and /verify for
 * one key of each signing algorithm, against a dev server in its own process (bench/tessera-server.mjs),
 * beside two baselines measured in the same run:
 *
 * - Encrypt (256 bytes) on a symmetric key through the same API — the request path (HTTP, schema,
 *   door, policy, audit) with the cheapest cryptography, so `× encrypt` shows what the algorithm adds;
 * - the signature operation alone, in this process, through the server's own signers
 *   (crypto/signers.ts, one core) — so `× alone` shows how much of the raw signing rate the API keeps.
 *
 *   npm run build && node bench/sign-api.mjs
 *   BENCH_SECONDS=3             measured seconds per scenario (default 3)
 *   BENCH_WARMUP_SECONDS=1      unmeasured warm-up before each (default 1)
 *   BENCH_CONNECTIONS=16        concurrent keep-alive connections (default 16)
 *
 * The load generator shares the machine with the server: on 2 cores the API numbers of cheap
 * algorithms are bounded by that, not by the server (compare with bench/run.mjs's bare server).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { startTessera } from "./api-load.mjs";

const int = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const seconds = int("BENCH_SECONDS", 3);
const warmup = int("BENCH_WARMUP_SECONDS", 1);
const connections = int("BENCH_CONNECTIONS", 16);
const message = randomBytes(256);

const { signers, generateSm2Pkcs8 } = await import("../packages/server/dist/crypto/index.js");

/** One key per algorithm: [key spec, signing algorithm, how to make a key pair here for the crypto-alone baseline]. */
const cases = [
  ["RSA_2048", "RSASSA_PSS_SHA_256", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
  ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
  ["RSA_3072", "RSASSA_PSS_SHA_384", () => generateKeyPairSync("rsa", { modulusLength: 3072 })],
  ["ECC_NIST_P256", "ECDSA_SHA_256", () => generateKeyPairSync("ec", { namedCurve: "prime256v1" })],
  ["ECC_NIST_P384", "ECDSA_SHA_384", () => generateKeyPairSync("ec", { namedCurve: "secp384r1" })],
  ["ECC_SECG_P256K1", "ECDSA_SHA_256", () => generateKeyPairSync("ec", { namedCurve: "secp256k1" })],
  ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", () => generateKeyPairSync("ed25519")],
  ["ML_DSA_44", "ML_DSA_SHAKE_256", () => generateKeyPairSync("ml-dsa-44")],
  ["ML_DSA_65", "ML_DSA_SHAKE_256", () => generateKeyPairSync("ml-dsa-65")],
  ["ML_DSA_87", "ML_DSA_SHAKE_256", () => generateKeyPairSync("ml-dsa-87")],
  [
    "SM2",
    "SM2DSA",
    () => {
      const privateKey = createPrivateKey({ key: generateSm2Pkcs8(), format: "der", type: "pkcs8" });
      return { privateKey, publicKey: createPublicKey(privateKey) };
    },
  ],
];

async function measure(path, body) {
  if (warmup > 0) await load(path, body, warmup);
  return load(path, body, seconds);
}

/** Operations per second of `op` in this process, for about `ms` milliseconds after a short warm-up. */
function alone(op, ms = 400) {
  for (let i = 0; i < 5; i++) op();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    op();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const { call, load, stop } = await startTessera({ connections });
try {
  await call("/v1/keys", { name: "bench-sym" }, 201);
  const encrypt = await measure("/v1/keys/bench-sym/encrypt", { plaintext: message.toString("base64") });
  const rows = [];
  for (const [spec, algorithm, pair] of cases) {
    const name = `bench-${spec}-${algorithm}`.toLowerCase().replaceAll("_", "-");
    await call("/v1/keys", { name, keySpec: spec, keyUsage: "SIGN_VERIFY" }, 201);
    const body = { message: message.toString("base64"), signingAlgorithm: algorithm };
    const { signature } = await call(`/v1/keys/${name}/sign`, body);
    const sign = await measure(`/v1/keys/${name}/sign`, body);
    const verify = await measure(`/v1/keys/${name}/verify`, { ...body, signature });
    const { privateKey, publicKey } = pair();
    const signer = signers[algorithm];
    const local = signer.sign(privateKey, message, "RAW");
    rows.push({
      spec,
      algorithm,
      sign,
      verify,
      signAlone: alone(() => signer.sign(privateKey, message, "RAW")),
      verifyAlone: alone(() => signer.verify(publicKey, message, "RAW", local)),
    });
  }
  const f = (n) => Math.round(n).toLocaleString("en-US");
  console.log(`Node ${process.versions.node}; ${connections} connections, ${seconds} s per scenario after ${warmup} s warm-up; message 256 bytes (RAW)`);
  console.log(`encrypt (256 B, symmetric key) through the API, same run: ${f(encrypt.opsPerSecond)} req/s, p99 ${encrypt.p99} ms`);
  console.log("");
  console.log("| Key spec | Algorithm | sign req/s | × encrypt | × alone | p99 ms | verify req/s | × encrypt | × alone | p99 ms |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.spec} | ${r.algorithm} | ${f(r.sign.opsPerSecond)} | ${(r.sign.opsPerSecond / encrypt.opsPerSecond).toFixed(2)} | ${(r.sign.opsPerSecond / r.signAlone).toFixed(2)} | ${r.sign.p99} | ` +
        `${f(r.verify.opsPerSecond)} | ${(r.verify.opsPerSecond / encrypt.opsPerSecond).toFixed(2)} | ${(r.verify.opsPerSecond / r.verifyAlone).toFixed(2)} | ${r.verify.p99} |`,
    );
  }
} finally {
  stop();
}
