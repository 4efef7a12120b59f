/**
 * AES-256-GCM through node:crypto (OpenSSL). 96-bit random nonces, 128-bit tags.
 * A key encrypts at most 2^32 messages under random 96-bit nonces (NIST SP 800-38D §8.3); format v2
 * lifts that with XAES-256-GCM (xaes.ts), which runs this GCM under a per-message subkey.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { aeadSealAt } from "./aead96.js";
import { fillNonce, nonce as randomNonce } from "./random.js";
import { keyLength, secretKey, type SecretKeyInput } from "./secret-key.js";

export const AES_256_KEY_LENGTH = 32;
export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

export interface Sealed {
  nonce: Buffer;
  /** ciphertext ‖ tag */
  sealed: Buffer;
}

export function aesGcmSeal(key: SecretKeyInput, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array = randomNonce(GCM_NONCE_LENGTH)): Sealed {
  if (keyLength(key) !== AES_256_KEY_LENGTH) throw new RangeError("AES-256-GCM needs a 32-byte key");
  if (nonce.length !== GCM_NONCE_LENGTH) throw new RangeError("AES-GCM nonce must be 12 bytes");
  const cipher = createCipheriv("aes-256-gcm", secretKey(key), nonce, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  const tag = cipher.getAuthTag();
  return { nonce: Buffer.from(nonce), sealed: Buffer.concat([body, final, tag]) };
}

/**
 * Seals into a caller's buffer: writes nonce ‖ ciphertext ‖ tag at `offset` of `out` (which must have
 * room for 12 + plaintext + 16 bytes). A random nonce unless `nonce` is given (test vectors only).
 */
export function aesGcmSealInto(key: SecretKeyInput, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number, nonce?: Uint8Array): void {
  if (keyLength(key) !== AES_256_KEY_LENGTH) throw new RangeError("AES-256-GCM needs a 32-byte key");
  if (nonce === undefined) fillNonce(out, offset, GCM_NONCE_LENGTH);
  else if (nonce.length !== GCM_NONCE_LENGTH) throw new RangeError("AES-GCM nonce must be 12 bytes");
  else out.set(nonce, offset);
  gcmSealAt(key, out.subarray(offset, offset + GCM_NONCE_LENGTH), plaintext, aad, out, offset + GCM_NONCE_LENGTH);
}

/**
 * The GCM core: encrypts under `iv` and writes ciphertext ‖ tag at `at` of `out`. The IV's
 * uniqueness under `key` is the caller's job — only aesGcmSealInto (random IV) and XAES (a fresh
 * subkey per message) call it.
 */
export function gcmSealAt(key: SecretKeyInput, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, at: number): void {
  aeadSealAt("aes-256-gcm", key, iv, plaintext, aad, out, at);
}

/** Opens an AES-256-GCM box; any failure is `InvalidCiphertext` with no detail. */
export function aesGcmOpen(key: SecretKeyInput, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (keyLength(key) !== AES_256_KEY_LENGTH) throw new RangeError("AES-256-GCM needs a 32-byte key");
  if (nonce.length !== GCM_NONCE_LENGTH || sealed.length < GCM_TAG_LENGTH) throw new TesseraError("InvalidCiphertext");
  const tagAt = sealed.length - GCM_TAG_LENGTH;
  let body: Buffer | undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", secretKey(key), nonce, { authTagLength: GCM_TAG_LENGTH });
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
