import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GCM_NONCE_LENGTH, GCM_TAG_LENGTH, aesGcmOpen, aesGcmSeal } from "./aead.js";

const key = randomBytes(32);
const aad = Buffer.from("additional data");
const invalidCiphertext = expect.objectContaining({ name: "TesseraError", code: "InvalidCiphertext" });

describe("aesGcmSeal / aesGcmOpen", () => {
  it("round-trips plaintexts of every length around the block size", () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 1000]) {
      const plaintext = randomBytes(n);
      const { nonce, sealed } = aesGcmSeal(key, plaintext, aad);
      expect(sealed).toHaveLength(n + GCM_TAG_LENGTH);
      expect(aesGcmOpen(key, nonce, sealed, aad).equals(plaintext)).toBe(true);
    }
  });

  it("draws a fresh 96-bit nonce for every message", () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { nonce } = aesGcmSeal(key, Buffer.of(1), aad);
      expect(nonce).toHaveLength(GCM_NONCE_LENGTH);
      nonces.add(nonce.toString("hex"));
    }
    expect(nonces.size).toBe(1000);
  });

  it("uses a caller-supplied nonce verbatim and deterministically", () => {
    const nonce = randomBytes(12);
    const a = aesGcmSeal(key, Buffer.from("x"), aad, nonce);
    const b = aesGcmSeal(key, Buffer.from("x"), aad, nonce);
    expect(a.nonce.equals(nonce)).toBe(true);
    expect(a.sealed.equals(b.sealed)).toBe(true);
  });

  it("rejects a key that is not 32 bytes when sealing and opening", () => {
    expect(() => aesGcmSeal(randomBytes(16), Buffer.of(1), aad)).toThrow(RangeError);
    expect(() => aesGcmOpen(randomBytes(16), randomBytes(12), randomBytes(32), aad)).toThrow(RangeError);
  });

  it("refuses to seal under a nonce that is not 12 bytes", () => {
    expect(() => aesGcmSeal(key, Buffer.of(1), aad, randomBytes(16))).toThrow(RangeError);
  });

  it("answers InvalidCiphertext for a wrong-length nonce or a box shorter than a tag", () => {
    const { nonce, sealed } = aesGcmSeal(key, Buffer.from("hi"), aad);
    expect(() => aesGcmOpen(key, nonce.subarray(0, 11), sealed, aad)).toThrow(invalidCiphertext);
    expect(() => aesGcmOpen(key, nonce, sealed.subarray(0, GCM_TAG_LENGTH - 1), aad)).toThrow(invalidCiphertext);
    expect(() => aesGcmOpen(key, nonce, Buffer.alloc(0), aad)).toThrow(invalidCiphertext);
  });

  it("answers InvalidCiphertext for a wrong key, wrong AAD, or any flipped bit", () => {
    const { nonce, sealed } = aesGcmSeal(key, Buffer.from("secret message"), aad);
    expect(() => aesGcmOpen(randomBytes(32), nonce, sealed, aad)).toThrow(invalidCiphertext);
    expect(() => aesGcmOpen(key, nonce, sealed, Buffer.from("additional datA"))).toThrow(invalidCiphertext);
    expect(() => aesGcmOpen(key, nonce, sealed, Buffer.alloc(0))).toThrow(invalidCiphertext);
    for (let i = 0; i < sealed.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(sealed);
        bad[i]! ^= bit;
        expect(() => aesGcmOpen(key, nonce, bad, aad)).toThrow(invalidCiphertext);
      }
    }
    for (let i = 0; i < nonce.length; i++) {
      const bad = Buffer.from(nonce);
      bad[i]! ^= 0x01;
      expect(() => aesGcmOpen(key, bad, sealed, aad)).toThrow(invalidCiphertext);
    }
  });

  it("answers InvalidCiphertext with the same message whatever check failed", () => {
    const { nonce, sealed } = aesGcmSeal(key, Buffer.from("x"), aad);
    const errors = [
      () => aesGcmOpen(key, nonce, sealed.subarray(0, GCM_TAG_LENGTH - 1), aad), // shorter than a tag
      () => aesGcmOpen(key, nonce.subarray(1), sealed, aad), // wrong nonce length
      () => aesGcmOpen(randomBytes(32), nonce, sealed, aad), // authentication
    ].map((attempt) => {
      try {
        attempt();
      } catch (err) {
        return err;
      }
      return "opened";
    });
    expect(errors).toEqual([invalidCiphertext, invalidCiphertext, invalidCiphertext]);
    expect(new Set(errors.map((e) => (e as Error).message)).size).toBe(1);
  });
});
