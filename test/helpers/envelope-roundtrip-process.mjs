/**
 * Child process of test/integration/sdk-envelope-stream.test.ts (run with --expose-gc): streams
 * TOTAL bytes of lazily generated input through the built SDK's encryptStream → decryptStream
 * against the server at TESSERA_ADDR, hashing both sides, and prints one JSON line with the hashes,
 * the byte count and its memory: live memory (heap + ArrayBuffers after two full collections) and RSS,
 * sampled every 1024 output chunks. Growth is measured from the first sample, taken once data flows
 * (the HTTP client and the KMS calls have allocated what they keep by then). In a process of its own
 * nothing else allocates, so what grows is the pipeline's.
 */
import { createHash, randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TesseraClient, decryptStream, encryptStream } from "../../packages/client/dist/index.js";

const total = Number(process.env.TOTAL);
const frameLength = Number(process.env.FRAME);
const CHUNK = 100_000; // not frame-aligned, so frames straddle chunks on both sides
const tessera = new TesseraClient({ address: process.env.TESSERA_ADDR, token: process.env.TESSERA_TOKEN });

function live() {
  globalThis.gc();
  globalThis.gc(); // ArrayBuffer backing stores freed by the first collection are counted out by the next
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const block = randomBytes(CHUNK);
const inputHash = createHash("sha256");
const outputHash = createHash("sha256");
let produced = 0;
let consumed = 0;
let chunks = 0;
let samples = 0;
let baseline = 0;
let baselineRss = 0;
let peakLive = 0;
let peakRss = 0;

const source = Readable.from(
  (function* () {
    for (let index = 0; produced < total; index++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(CHUNK, total - produced)));
      chunk.writeUInt32BE(index, 0); // every chunk differs: a dropped or repeated one changes the hash
      inputHash.update(chunk);
      produced += chunk.length;
      yield chunk;
    }
  })(),
  { objectMode: false },
);
const sink = new Writable({
  write(chunk, _encoding, callback) {
    outputHash.update(chunk);
    consumed += chunk.length;
    if (++chunks % 1024 === 0) {
      const now = live();
      const rss = process.memoryUsage().rss;
      if (samples++ === 0) [baseline, baselineRss] = [now, rss];
      peakLive = Math.max(peakLive, now - baseline);
      peakRss = Math.max(peakRss, rss - baselineRss);
    }
    callback();
  },
});

await pipeline(source, encryptStream(tessera, { keyId: process.env.KEY, encryptionContext: { file: "big" }, frameLength }), decryptStream(tessera, { allowedKeyIds: [process.env.KEY] }), sink);
process.stdout.write(`${JSON.stringify({ produced, consumed, inputHash: inputHash.digest("hex"), outputHash: outputHash.digest("hex"), samples, peakLive, peakRss })}\n`);
