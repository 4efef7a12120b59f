/**
 * X-Wing for the share escrow (kem.ts), checked against an independent implementation
 * (`@noble/post-quantum`'s `ml_kem768_x25519`, which is X-Wing checked against the draft's vectors):
 * the same seed gives the same public key, and each side opens what the other encapsulates.
 */
import { randomBytes } from "node:crypto";
import { ml_kem768_x25519 } from "@noble/post-quantum/hybrid.js";
import { describe, expect, it } from "vitest";
import { xwingDecapsulate, xwingEncapsulate, xwingPublicKey, XWING_CIPHERTEXT_LENGTH, XWING_SEED_LENGTH } from "./kem.js";
import { XWING_PUBLIC_KEY_LENGTH } from "./recipient-key.js";

describe("X-Wing (share escrow KEM)", () => {
  it("derives the public key deterministically from a 32-byte seed, as an independent X-Wing does", async () => {
    const seed = randomBytes(XWING_SEED_LENGTH);
    const pk = await xwingPublicKey(seed);
    expect(pk).toHaveLength(XWING_PUBLIC_KEY_LENGTH);
    expect((await xwingPublicKey(seed)).equals(pk)).toBe(true);
    expect(pk.equals(Buffer.from(ml_kem768_x25519.keygen(new Uint8Array(seed)).publicKey))).toBe(true);
    expect((await xwingPublicKey(randomBytes(XWING_SEED_LENGTH))).equals(pk)).toBe(false);
  });

  it("does not alter or zero the caller's seed", async () => {
    const seed = randomBytes(XWING_SEED_LENGTH);
    const copy = Buffer.from(seed);
    await xwingPublicKey(seed);
    await xwingDecapsulate(seed, (await xwingEncapsulate(await xwingPublicKey(seed))).ciphertext);
    expect(seed.equals(copy)).toBe(true);
  });

  it("interoperates both ways with an independent X-Wing", async () => {
    const seed = randomBytes(XWING_SEED_LENGTH);
    const pk = await xwingPublicKey(seed);
    const ours = await xwingEncapsulate(pk);
    expect(ours.sharedKey).toHaveLength(32);
    expect(ours.ciphertext).toHaveLength(XWING_CIPHERTEXT_LENGTH);
    expect(Buffer.from(ml_kem768_x25519.decapsulate(new Uint8Array(ours.ciphertext), new Uint8Array(seed))).equals(ours.sharedKey)).toBe(true);
    expect((await xwingDecapsulate(seed, ours.ciphertext)).equals(ours.sharedKey)).toBe(true);
    const theirs = ml_kem768_x25519.encapsulate(new Uint8Array(pk));
    expect((await xwingDecapsulate(seed, theirs.cipherText)).equals(Buffer.from(theirs.sharedSecret))).toBe(true);
  });

  it("is hybrid: altering either the ML-KEM or the X25519 part of the ciphertext changes the secret", async () => {
    const seed = randomBytes(XWING_SEED_LENGTH);
    const { sharedKey, ciphertext } = await xwingEncapsulate(await xwingPublicKey(seed));
    // ct = ML-KEM-768 ciphertext (1088 bytes) ‖ X25519 ephemeral point (32 bytes).
    for (const at of [0, 1087, 1088, 1119]) {
      const altered = Buffer.from(ciphertext);
      altered[at]! ^= 0x01;
      expect((await xwingDecapsulate(seed, altered)).equals(sharedKey)).toBe(false);
    }
    expect((await xwingDecapsulate(randomBytes(XWING_SEED_LENGTH), ciphertext)).equals(sharedKey)).toBe(false);
  });

  it("refuses seeds, public keys and ciphertexts of the wrong length", async () => {
    const seed = randomBytes(XWING_SEED_LENGTH);
    const pk = await xwingPublicKey(seed);
    const { ciphertext } = await xwingEncapsulate(pk);
    await expect(xwingPublicKey(randomBytes(64))).rejects.toThrow(RangeError);
    await expect(xwingEncapsulate(pk.subarray(1))).rejects.toThrow(RangeError);
    await expect(xwingDecapsulate(randomBytes(31), ciphertext)).rejects.toThrow(RangeError);
    await expect(xwingDecapsulate(seed, ciphertext.subarray(0, 1088))).rejects.toThrow(RangeError);
  });
});
