/**
 * The 96-bit-nonce AEADs of format v4 through node:crypto (OpenSSL): AES-128-GCM, AES-256-GCM
 * (NIST SP 800-38D) and ChaCha20-Poly1305 (RFC 8439 §2.8), each with a 12-byte nonce and a 16-byte tag.
 *
 * Nonces: random unless the caller passes one. Random 96-bit nonces allow about 2^32 messages per key
 * (SP 800-38D §8.3; the same collision bound holds for ChaCha20-Poly1305); the only caller that passes a
 * nonce in production is convergent mode, whose nonce is a PRF of the plaintext under a per-context key
 * (format/envelope.ts), so a repeated nonce there only ever repeats the same message.
 *
 * XChaCha20-Poly1305 is not here: node:crypto has no XChaCha20, and Tessera does not hand-roll HChaCha20.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { fillNonce } from "./random.js";
import { keyLength, secretKey, type SecretKeyInput } from "./secret-key.js";

export type Aead96 = "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";

export const AEAD96_NONCE_LENGTH = 12;
export const AEAD96_TAG_LENGTH = 16;

/** Key length in bytes of each AEAD. */
export const aead96KeyLengths: Readonly<Record<Aead96, number>> = Object.freeze({ "aes-128-gcm": 16, "aes-256-gcm": 32, "chacha20-poly1305": 32 });

function checkKey(aead: Aead96, key: SecretKeyInput): void {
  if (keyLength(key) !== aead96KeyLengths[aead]) throw new RangeError(`${aead} needs a ${aead96KeyLengths[aead]}-byte key`);
}

/**
 * Seals into a caller's buffer: writes nonce ‖ ciphertext ‖ tag at `offset` of `out` (room for
 * 12 + plaintext + 16 bytes). A random nonce unless `nonce` is given.
 */
export function aead96SealInto(aead: Aead96, key: SecretKeyInput, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number, nonce?: Uint8Array): void {
  checkKey(aead, key);
  if (nonce === undefined) fillNonce(out, offset, AEAD96_NONCE_LENGTH);
  else if (nonce.length !== AEAD96_NONCE_LENGTH) throw new RangeError(`${aead} nonce must be 12 bytes`);
  else out.set(nonce, offset);
  aeadSealAt(aead, key, out.subarray(offset, offset + AEAD96_NONCE_LENGTH), plaintext, aad, out, offset + AEAD96_NONCE_LENGTH);
}

/**
 * The AEAD core: encrypts under `iv` and writes ciphertext ‖ 16-byte tag at `at` of `out`. The IV's
 * uniqueness under `key` is the caller's job (aead.ts's gcmSealAt and XAES use it for AES-256-GCM).
 */
export function aeadSealAt(aead: Aead96, key: SecretKeyInput, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, at: number): void {
  // chacha20-poly1305 is not in @types/node's CipherGCMTypes; the options and calls are the same.
  const cipher = createCipheriv(aead as CipherGCMTypes, secretKey(key), iv, { authTagLength: AEAD96_TAG_LENGTH });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  body.copy(out, at);
  at += body.length;
  const final = cipher.final();
  final.copy(out, at);
  at += final.length;
  cipher.getAuthTag().copy(out, at);
}

/** Opens ciphertext ‖ 16-byte tag; any failure is `InvalidCiphertext` with no detail, and no plaintext leaves unverified. */
export function aead96Open(aead: Aead96, key: SecretKeyInput, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(aead, key);
  if (nonce.length !== AEAD96_NONCE_LENGTH || sealed.length < AEAD96_TAG_LENGTH) throw new TesseraError("InvalidCiphertext");
  const tagAt = sealed.length - AEAD96_TAG_LENGTH;
  let body: Buffer | undefined;
  try {
    const decipher = createDecipheriv(aead as CipherGCMTypes, secretKey(key), nonce, { authTagLength: AEAD96_TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(tagAt));
    body = decipher.update(sealed.subarray(0, tagAt));
    const final = decipher.final();
    return final.length === 0 ? body : Buffer.concat([body, final]);
  } catch {
    // update() wrote plaintext before final() checked the tag: never let it outlive the failure.
    if (body !== undefined) body.fill(0);
    throw new TesseraError("InvalidCiphertext");
  }
}
