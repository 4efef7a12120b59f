/**
 * 1 GiB through encryptStream → decryptStream against a real server, in constant memory: the input is
 * generated lazily, both sides are hashed, and the live heap plus ArrayBuffer memory (sampled after
 * a forced garbage collection, so garbage not yet collected does not count) stays within a bound of
 * a few frames however much has gone through.
 */
import type { AddressInfo } from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient, decryptStream, encryptStream } from "@tessera/client";
import { startTestApp, type TestApp } from "../helpers/app.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let t: TestApp;
let tessera: TesseraClient;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  tessera = new TesseraClient({ address: `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`, token: t.rootToken });
  await tessera.createKey({ name: "stream-key" });
});
afterAll(async () => {
  await t?.close();
});

const GiB = 1024 * 1024 * 1024;
const FRAME = 64 * 1024;
/** Input chunks are not frame-aligned, so frames straddle chunks on both sides. */
const CHUNK = 100_000;

/**
 * Live JS heap plus Buffer/ArrayBuffer memory after full collections (two: ArrayBuffer backing stores
 * freed by the first are counted out only by the next).
 */
function live(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe("streaming 1 GiB", () => {
  it("round-trips 1 GiB of lazily generated input, hashes equal, in memory bounded by a few frames", async () => {
    const block = randomBytes(CHUNK);
    const inputHash = createHash("sha256");
    const outputHash = createHash("sha256");
    let produced = 0;
    let consumed = 0;
    let samples = 0;
    let peak = 0;
    const baseline = live();

    const source = Readable.from(
      (function* () {
        while (produced < GiB) {
          const n = Math.min(CHUNK, GiB - produced);
          // Each chunk differs (its position is written into it), so a dropped or repeated one changes the hash.
          const chunk = Buffer.from(block.subarray(0, n));
          chunk.writeUInt32BE(produced / CHUNK, 0);
          inputHash.update(chunk);
          produced += n;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        outputHash.update(chunk);
        consumed += chunk.length;
        if (++samples % 1024 === 0) peak = Math.max(peak, live() - baseline);
        callback();
      },
    });

    await pipeline(source, encryptStream(tessera, { keyId: "stream-key", encryptionContext: { file: "big" }, frameLength: FRAME }), decryptStream(tessera, { allowedKeyIds: ["stream-key"] }), sink);

    expect(consumed).toBe(GiB);
    expect(outputHash.digest("hex")).toBe(inputHash.digest("hex"));
    expect(samples).toBeGreaterThan(10_000);
    // The streams' buffers (16 KiB high-water marks on each side of each stage, a frame held by the
    // encryptor, a frame being assembled by the decryptor, the source's block) are a few frames.
    expect(peak, `peak growth ${peak} bytes`).toBeLessThan(16 * FRAME);
  });
});
