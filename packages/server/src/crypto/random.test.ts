import { describe, expect, it } from "vitest";
import { MAX_NONCE_LENGTH, fillNonce, nonce, randomId, secretBytes } from "./random.js";

describe("nonce (the pool)", () => {
  it("serves 1 … 24 bytes, the longest nonce (XAES-256-GCM)", () => {
    expect(MAX_NONCE_LENGTH).toBe(24);
    expect(nonce(1)).toHaveLength(1);
    expect(nonce(12)).toHaveLength(12);
    expect(nonce(24)).toHaveLength(24);
  });

  it("refuses anything longer than a nonce, so a key cannot be drawn from it", () => {
    for (const length of [25, 32, 64, 1024, 0, -1, 1.5, Number.NaN]) {
      expect(() => nonce(length)).toThrow(RangeError);
      expect(() => fillNonce(Buffer.alloc(2048), 0, length)).toThrow(RangeError);
    }
  });

  it("writes at the offset and nowhere else", () => {
    const target = Buffer.alloc(40, 0xee);
    fillNonce(target, 8, 24);
    expect(target.subarray(0, 8).every((b) => b === 0xee)).toBe(true);
    expect(target.subarray(32).every((b) => b === 0xee)).toBe(true);
  });

  it("never hands out the same nonce twice across many pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(nonce(12).toString("hex")); // 24 KB: six refills of the 4 KiB pool
    expect(seen.size).toBe(2000);
  });
});

describe("secretBytes", () => {
  it("returns a buffer of its own of the requested length, for any key size", () => {
    for (const length of [16, 32, 64, 1024]) {
      const b = secretBytes(length);
      expect(b).toHaveLength(length);
      // Its own allocation: zeroing it can never touch bytes handed to anyone else.
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(length);
    }
    expect(secretBytes(32).equals(secretBytes(32))).toBe(false);
  });
});

describe("randomId", () => {
  it("is URL-safe base64 of the requested entropy, distinct per call", () => {
    const id = randomId(24);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(id, "base64url")).toHaveLength(24);
    expect(randomId(24)).not.toBe(id);
  });
});
