/**
 * SM4-GCM: the SM4 block cipher (GB/T 32907-2016, 128-bit key and block) in Galois/Counter Mode
 * (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag — AEAD_SM4_GCM of RFC 8998 §3.1 (the same
 * construction as GB/T 36624-2018's SM4 GCM). Checked against RFC 8998's vector and Wycheproof's
 * SM4-GCM cases (test/vectors/sm4-gcm.json).
 *
 * node:crypto has SM4 in ECB/CBC/CTR/CFB/OFB but no SM4-GCM (Node 24, OpenSSL 3.5: `sm4-gcm` is an
 * unknown cipher), so the mode comes from `sm-crypto-v2`: SM4 in pure JavaScript and GHASH from
 * `@noble/ciphers` (docs/dependencies.md). This wrapper only fixes the parameters and the contract:
 *
 * - the nonce is exactly 12 bytes and the tag exactly 16 (the library accepts other IV lengths and
 *   would skip the tag check entirely if no tag were passed — we always pass one);
 * - every open failure is `InvalidCiphertext` with no detail, and no plaintext leaves before the tag
 *   verified (the library checks the tag, in constant time, before it decrypts);
 * - random 96-bit nonces allow about 2^32 messages per key (NIST SP 800-38D §8.3), as format v1's
 *   AES-GCM did: SM4 keys are meant to be rotated (docs/formats.md).
 *
 * The library copies the key and expands it into round keys it does not zero; that copy lives in the
 * JavaScript heap until collected (docs/security.md). Callers zero their own key buffers as usual.
 */
import { TesseraError } from "@tessera/protocol";
import { sm4 } from "sm-crypto-v2";
import { fillNonce } from "./random.js";
import type { Sealed } from "./aead.js";

export const SM4_KEY_LENGTH = 16;
export const SM4_GCM_NONCE_LENGTH = 12;
export const SM4_GCM_TAG_LENGTH = 16;

function checkKey(key: Uint8Array): void {
  if (key.length !== SM4_KEY_LENGTH) throw new RangeError("SM4 needs a 16-byte key");
}

/**
 * Seals into a caller's buffer: writes nonce ‖ ciphertext ‖ tag at `offset` of `out` (room for
 * 12 + plaintext + 16 bytes). A random nonce unless `nonce` is given (test vectors only).
 */
export function sm4GcmSealInto(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number, nonce?: Uint8Array): void {
  checkKey(key);
  if (nonce === undefined) fillNonce(out, offset, SM4_GCM_NONCE_LENGTH);
  else if (nonce.length !== SM4_GCM_NONCE_LENGTH) throw new RangeError("SM4-GCM nonce must be 12 bytes");
  else out.set(nonce, offset);
  const iv = out.subarray(offset, offset + SM4_GCM_NONCE_LENGTH);
  const { output, tag } = sm4.encrypt(plaintext, key, { mode: "gcm", iv, associatedData: aad, output: "array", outputTag: true });
  if (tag === undefined || tag.length !== SM4_GCM_TAG_LENGTH || output.length !== plaintext.length) throw new Error("SM4-GCM produced no tag");
  out.set(output, offset + SM4_GCM_NONCE_LENGTH);
  out.set(tag, offset + SM4_GCM_NONCE_LENGTH + output.length);
}

/** Seals to a new buffer (test vectors and callers without a layout of their own). */
export function sm4GcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce?: Uint8Array): Sealed {
  const out = Buffer.allocUnsafe(SM4_GCM_NONCE_LENGTH + plaintext.length + SM4_GCM_TAG_LENGTH);
  sm4GcmSealInto(key, plaintext, aad, out, 0, nonce);
  return { nonce: out.subarray(0, SM4_GCM_NONCE_LENGTH), sealed: out.subarray(SM4_GCM_NONCE_LENGTH) };
}

/** Opens an SM4-GCM box (ciphertext ‖ 16-byte tag); any failure is `InvalidCiphertext` with no detail. */
export function sm4GcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  if (nonce.length !== SM4_GCM_NONCE_LENGTH || sealed.length < SM4_GCM_TAG_LENGTH) throw new TesseraError("InvalidCiphertext");
  const tagAt = sealed.length - SM4_GCM_TAG_LENGTH;
  try {
    const opened = sm4.decrypt(sealed.subarray(0, tagAt), key, {
      mode: "gcm",
      iv: nonce,
      associatedData: aad,
      tag: sealed.subarray(tagAt),
      output: "array",
    });
    return Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
  } catch {
    throw new TesseraError("InvalidCiphertext");
  }
}
