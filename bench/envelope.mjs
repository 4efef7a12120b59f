/**
 * SDK envelope encryption throughput: `encryptStream` / `decryptStream` of @tessera/client (framed
 * messages, one data key per message from a real dev server) against raw AES-256-GCM streaming of the
 * same bytes (one node:crypto cipher over the whole stream, no framing) — in the same run, cases
 * interleaved, best round reported. Prints MB/s and the ratio SDK / raw (aim ≥ 0.8, docs/performance.md).
 *
 *   npx tsc -b && node bench/envelope.mjs
 *   BENCH_ENVELOPE_MIB=256       bytes per case (default 256 MiB)
 *   BENCH_ENVELOPE_FRAME=65536,262144  SDK frame lengths, comma-separated (default 64 KiB and 256 KiB,
 *                                the SDK's default)
 *   BENCH_ENVELOPE_CHUNK=65536   size of the chunks the source stream yields (default 64 KiB)
 *   BENCH_ENVELOPE_ROUNDS=5      rounds; the best of each case is reported
 *   BENCH_ENVELOPE_CLOCK=wall    or `cpu`: count this process's CPU time instead of wall time, for a
 *                                machine that other work keeps busy (the ratios stay comparable)
 *
 * Each SDK encryption run includes its GenerateDataKey call to the server, and each decryption run its
 * Decrypt call; the raw baseline's key is made once outside the timing. The source yields one block
 * over and over (neither side may copy it for free), the sink only counts bytes.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from "node:crypto";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TesseraClient, decryptStream, encryptStream } from "../packages/client/dist/index.js";
import { startTessera } from "./api-load.mjs";

function envInt(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

const MIB = 1024 * 1024;
const total = envInt("BENCH_ENVELOPE_MIB", 256, 1, 16384) * MIB;
const frameLengths = (process.env.BENCH_ENVELOPE_FRAME || "65536,262144").split(",").map((f) => {
  const n = Number(f.trim());
  if (!Number.isInteger(n) || n < 1 || n > 16 * MIB) throw new Error(`BENCH_ENVELOPE_FRAME must list integers in 1..${16 * MIB}, got "${f}"`);
  return n;
});
const chunkSize = envInt("BENCH_ENVELOPE_CHUNK", 64 * 1024, 1, 16 * MIB);
const rounds = envInt("BENCH_ENVELOPE_ROUNDS", 5, 1, 100);
const cpuClock = process.env.BENCH_ENVELOPE_CLOCK === "cpu";
/** Seconds on the chosen clock: wall time, or user + system CPU time of this process. */
const now = cpuClock
  ? () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    }
  : () => Number(process.hrtime.bigint()) / 1e9;
const AIM = 0.8;

const block = randomBytes(chunkSize);
function source() {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += chunkSize) yield sent + chunkSize <= total ? block : block.subarray(0, total - sent);
    })(),
    { objectMode: false },
  );
}

/** A sink that counts bytes, and optionally keeps them (to feed a decryption case). */
function sink(keep) {
  const state = { bytes: 0, chunks: [] };
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      state.bytes += chunk.length;
      if (keep) state.chunks.push(chunk);
      callback();
    },
  });
  return { stream, state };
}

function rawCipher(key, nonce) {
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  return new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, cipher.update(chunk));
    },
    flush(callback) {
      this.push(cipher.final());
      this.push(cipher.getAuthTag());
      callback();
    },
  });
}

function rawDecipher(key, nonce, tag) {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAuthTag(tag);
  return new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, decipher.update(chunk));
    },
    flush(callback) {
      this.push(decipher.final());
      callback();
    },
  });
}

async function timed(run) {
  const start = now();
  const bytes = await run();
  return { seconds: now() - start, bytes };
}

/** `chunks` joined and cut again into `size`-byte pieces, as a file read would deliver them. */
function rechunk(chunks, size) {
  const all = Buffer.concat(chunks);
  const out = [];
  for (let at = 0; at < all.length; at += size) out.push(all.subarray(at, at + size));
  return out;
}

const server = await startTessera({ connections: 1 });
try {
  const tessera = new TesseraClient({ address: server.url, token: server.rootToken });
  await tessera.createKey({ name: "bench-envelope" });

  const rawKey = createSecretKey(randomBytes(32));
  const rawNonce = randomBytes(12);
  // Ciphertexts to decrypt: made once, outside the timing.
  const rawCiphertext = sink(true);
  await pipeline(source(), rawCipher(rawKey, rawNonce), rawCiphertext.stream);
  const rawTag = rawCiphertext.state.chunks.pop();
  const rawChunks = rechunk(rawCiphertext.state.chunks, chunkSize);
  const sdkChunks = new Map();
  const overhead = new Map();
  for (const frameLength of frameLengths) {
    const sdkCiphertext = sink(true);
    await pipeline(source(), encryptStream(tessera, { keyId: "bench-envelope", frameLength }), sdkCiphertext.stream);
    sdkChunks.set(frameLength, rechunk(sdkCiphertext.state.chunks, chunkSize));
    overhead.set(frameLength, sdkCiphertext.state.bytes - total);
  }

  const cases = {
    "encrypt raw": async () => {
      const out = sink(false);
      await pipeline(source(), rawCipher(rawKey, rawNonce), out.stream);
      return out.state.bytes;
    },
    "decrypt raw": async () => {
      const out = sink(false);
      await pipeline(Readable.from(rawChunks, { objectMode: false }), rawDecipher(rawKey, rawNonce, rawTag), out.stream);
      return out.state.bytes;
    },
  };
  for (const frameLength of frameLengths) {
    cases[`encrypt sdk ${frameLength}`] = async () => {
      const out = sink(false);
      await pipeline(source(), encryptStream(tessera, { keyId: "bench-envelope", frameLength }), out.stream);
      return out.state.bytes;
    };
    cases[`decrypt sdk ${frameLength}`] = async () => {
      const out = sink(false);
      await pipeline(Readable.from(sdkChunks.get(frameLength), { objectMode: false }), decryptStream(tessera, { allowedKeyIds: ["bench-envelope"] }), out.stream);
      return out.state.bytes;
    };
  }

  const best = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const { seconds, bytes } = await timed(run);
      if (name.startsWith("decrypt") && bytes !== total) throw new Error(`${name}: ${bytes} bytes out, expected ${total}`);
      best[name] = Math.min(best[name] ?? Infinity, seconds);
    }
  }

  const mbps = (name) => total / 1e6 / best[name];
  console.log(`envelope streaming, ${total / MIB} MiB per case, source chunks ${chunkSize} B, best of ${rounds} rounds, ${cpuClock ? "CPU" : "wall"} clock (Node ${process.version})`);
  console.log("case                   MB/s   sdk/raw");
  for (const name of Object.keys(cases)) {
    const raw = name.startsWith("encrypt") ? "encrypt raw" : "decrypt raw";
    console.log(`${name.padEnd(20)} ${mbps(name).toFixed(0).padStart(6)}   ${name.includes("sdk") ? (mbps(name) / mbps(raw)).toFixed(2) : ""}`);
  }
  for (const frameLength of frameLengths) {
    const ratio = mbps(`encrypt sdk ${frameLength}`) / mbps("encrypt raw");
    console.log(`frame ${frameLength}: encrypt ratio ${ratio.toFixed(2)} (aim ≥ ${AIM}: ${ratio >= AIM ? "met" : "NOT met"}); message overhead ${overhead.get(frameLength)} bytes (${((overhead.get(frameLength) / total) * 100).toFixed(3)} %)`);
  }
} finally {
  server.stop();
}
