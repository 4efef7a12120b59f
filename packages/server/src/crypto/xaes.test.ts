import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GCM_TAG_LENGTH } from "./aead.js";
import { XAES_NONCE_LENGTH, XaesKey, xaesDeriveKey, xaesGcmOpen, xaesGcmSeal, xaesGcmSealInto } from "./xaes.js";

const key = randomBytes(32);
const aad = Buffer.from("additional data");
const invalidCiphertext = expect.objectContaining({ name: "TesseraError", code: "InvalidCiphertext" });

describe("xaesGcmSeal / xaesGcmOpen", () => {
  it("round-trips plaintexts of every length around the block size", () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 1000]) {
      const plaintext = randomBytes(n);
      const { nonce, sealed } = xaesGcmSeal(key, plaintext, aad);
      expect(nonce).toHaveLength(XAES_NONCE_LENGTH);
      expect(sealed).toHaveLength(n + GCM_TAG_LENGTH);
      expect(xaesGcmOpen(key, nonce, sealed, aad).equals(plaintext)).toBe(true);
    }
  });

  it("draws a fresh 192-bit nonce for every message", () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) nonces.add(xaesGcmSeal(key, Buffer.of(1), aad).nonce.toString("hex"));
    expect(nonces.size).toBe(1000);
  });

  it("uses a caller-supplied nonce verbatim and deterministically", () => {
    const nonce = randomBytes(24);
    const a = xaesGcmSeal(key, Buffer.from("x"), aad, nonce);
    const b = xaesGcmSeal(key, Buffer.from("x"), aad, nonce);
    expect(a.nonce.equals(nonce)).toBe(true);
    expect(a.sealed.equals(b.sealed)).toBe(true);
  });

  it("seals into a caller's buffer at an offset, touching nothing around it", () => {
    const plaintext = Buffer.from("into");
    const out = Buffer.alloc(5 + 24 + plaintext.length + 16 + 3, 0xee);
    xaesGcmSealInto(key, plaintext, aad, out, 5);
    expect(out.subarray(0, 5).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(out.length - 3).every((b) => b === 0xee)).toBe(true);
    expect(xaesGcmOpen(key, out.subarray(5, 29), out.subarray(29, out.length - 3), aad).toString()).toBe("into");
  });

  it("rejects a key that is not 32 bytes, and a sealing nonce that is not 24 bytes, as programming errors", () => {
    expect(() => xaesGcmSeal(randomBytes(16), Buffer.of(1), aad)).toThrow(RangeError);
    expect(() => xaesGcmOpen(randomBytes(16), randomBytes(24), randomBytes(32), aad)).toThrow(RangeError);
    expect(() => xaesGcmSeal(key, Buffer.of(1), aad, randomBytes(12))).toThrow(RangeError);
    expect(() => xaesDeriveKey(key, randomBytes(23))).toThrow(RangeError);
  });

  it("answers InvalidCiphertext for a wrong-length nonce or a box shorter than a tag", () => {
    const { nonce, sealed } = xaesGcmSeal(key, Buffer.from("hi"), aad);
    expect(() => xaesGcmOpen(key, nonce.subarray(0, 12), sealed, aad)).toThrow(invalidCiphertext);
    expect(() => xaesGcmOpen(key, Buffer.concat([nonce, Buffer.of(0)]), sealed, aad)).toThrow(invalidCiphertext);
    expect(() => xaesGcmOpen(key, nonce, sealed.subarray(0, GCM_TAG_LENGTH - 1), aad)).toThrow(invalidCiphertext);
  });

  it("answers InvalidCiphertext for a wrong key, wrong AAD, or any flipped bit of nonce, body or tag", () => {
    const { nonce, sealed } = xaesGcmSeal(key, Buffer.from("secret message"), aad);
    expect(() => xaesGcmOpen(randomBytes(32), nonce, sealed, aad)).toThrow(invalidCiphertext);
    expect(() => xaesGcmOpen(key, nonce, sealed, Buffer.alloc(0))).toThrow(invalidCiphertext);
    for (let i = 0; i < sealed.length * 8; i++) {
      const bad = Buffer.from(sealed);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(() => xaesGcmOpen(key, nonce, bad, aad)).toThrow(invalidCiphertext);
    }
    for (let i = 0; i < nonce.length * 8; i++) {
      const bad = Buffer.from(nonce);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(() => xaesGcmOpen(key, bad, sealed, aad)).toThrow(invalidCiphertext);
    }
  });
});

describe("xaesDeriveKey", () => {
  it("depends on the nonce's first 12 bytes only (the last 12 are the GCM nonce)", () => {
    const nonce = randomBytes(24);
    const base = xaesDeriveKey(key, nonce);
    const lastHalf = Buffer.from(nonce);
    lastHalf[23]! ^= 1;
    expect(xaesDeriveKey(key, lastHalf).equals(base)).toBe(true);
    for (const at of [0, 11]) {
      const firstHalf = Buffer.from(nonce);
      firstHalf[at]! ^= 1;
      expect(xaesDeriveKey(key, firstHalf).equals(base)).toBe(false);
    }
  });

  it("returns a buffer of its own that the caller may zero", () => {
    const nonce = randomBytes(24);
    const first = xaesDeriveKey(key, nonce);
    const copy = Buffer.from(first);
    first.fill(0);
    expect(xaesDeriveKey(key, nonce).equals(copy)).toBe(true);
  });

  it("never changes the caller's key or nonce", () => {
    const k = randomBytes(32);
    const n = randomBytes(24);
    const [kc, nc] = [Buffer.from(k), Buffer.from(n)];
    xaesDeriveKey(k, n);
    xaesGcmOpen(k, n, xaesGcmSeal(k, Buffer.of(1), aad, n).sealed, aad);
    expect(k.equals(kc) && n.equals(nc)).toBe(true);
  });
});

describe("XaesKey (steps 1–2 prepared once per key)", () => {
  it("seals and opens exactly as the raw key does, across many messages", () => {
    const prepared = new XaesKey(key);
    try {
      for (let i = 0; i < 50; i++) {
        const nonce = randomBytes(24);
        const plaintext = randomBytes(i);
        const raw = xaesGcmSeal(key, plaintext, aad, nonce);
        const fast = xaesGcmSeal(prepared, plaintext, aad, nonce);
        expect(fast.sealed.equals(raw.sealed)).toBe(true);
        expect(xaesGcmOpen(prepared, nonce, raw.sealed, aad).equals(plaintext)).toBe(true);
        expect(prepared.deriveKey(nonce).equals(xaesDeriveKey(key, nonce))).toBe(true);
      }
    } finally {
      prepared.destroy();
    }
  });

  it("refuses use after destroy(), and destroy() may be called twice", () => {
    const prepared = new XaesKey(key);
    prepared.destroy();
    prepared.destroy();
    expect(() => prepared.deriveKey(randomBytes(24))).toThrow(RangeError);
    expect(() => xaesGcmSeal(prepared, Buffer.of(1), aad)).toThrow(RangeError);
  });

  it("rejects a key that is not 32 bytes and a nonce that is not 24", () => {
    expect(() => new XaesKey(randomBytes(31))).toThrow(RangeError);
    const prepared = new XaesKey(key);
    expect(() => prepared.deriveKey(randomBytes(12))).toThrow(RangeError);
    prepared.destroy();
  });
});
