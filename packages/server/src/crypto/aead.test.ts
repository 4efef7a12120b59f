import { createDecipheriv, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GCM_NONCE_LENGTH, GCM_TAG_LENGTH, aesGcmOpen, aesGcmSeal } from "./aead.js";
import { aead96Open, aead96SealInto, type Aead96 } from "./aead96.js";

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

describe("a failed tag leaves no plaintext behind", () => {
  afterEach(() => vi.restoreAllMocks());

  /** Every buffer the deciphers' update() hands out during `fn` (node:crypto's own Decipheriv, observed, not replaced). */
  function updates(fn: () => void): Buffer[] {
    const proto = Object.getPrototypeOf(createDecipheriv("aes-256-gcm", randomBytes(32), randomBytes(12))) as { update: (...a: unknown[]) => Buffer };
    const seen: Buffer[] = [];
    const original = proto.update;
    vi.spyOn(proto, "update").mockImplementation(function (this: unknown, ...args: unknown[]) {
      const out = original.apply(this, args);
      seen.push(out);
      return out;
    });
    fn();
    return seen;
  }

  it("format v1's AES-256-GCM zeroes what update() decrypted when final() refuses the tag", () => {
    const plaintext = Buffer.alloc(64, 0x41);
    const { nonce, sealed } = aesGcmSeal(key, plaintext, aad);
    sealed[sealed.length - 1]! ^= 1;
    const seen = updates(() => expect(() => aesGcmOpen(key, nonce, sealed, aad)).toThrow(invalidCiphertext));
    expect(seen.map((b) => b.length)).toEqual([64]);
    expect(seen[0]!.equals(Buffer.alloc(64))).toBe(true);
  });

  it.each<Aead96>(["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"])("%s (format v4) zeroes it too", (aead) => {
    const k = randomBytes(aead === "aes-128-gcm" ? 16 : 32);
    const plaintext = Buffer.alloc(64, 0x41);
    const out = Buffer.alloc(12 + 64 + 16);
    aead96SealInto(aead, k, plaintext, aad, out, 0);
    out[out.length - 1]! ^= 1;
    const seen = updates(() => expect(() => aead96Open(aead, k, out.subarray(0, 12), out.subarray(12), aad)).toThrow(invalidCiphertext));
    expect(seen.map((b) => b.length)).toEqual([64]);
    expect(seen[0]!.equals(Buffer.alloc(64))).toBe(true);
  });
});
