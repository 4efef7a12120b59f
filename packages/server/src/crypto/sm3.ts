/**
 * SM3 (GB/T 32905-2016, GM/T 0004-2012): the 256-bit hash of the Chinese commercial algorithms,
 * through node:crypto (OpenSSL's `sm3`). SM2 hashes with it (the signer's Z value, the message
 * digest e, the KDF and C3 of public-key encryption); HMAC_SM3 keys MAC with it (hmac.ts).
 */
import { createHash } from "node:crypto";
import { hashBytes } from "./secrets.js";

export const SM3_LENGTH = 32;

/** SM3 of one byte string. */
export function sm3(data: Uint8Array): Buffer {
  return hashBytes("sm3", data);
}

/** SM3 of the concatenation of `parts`, without building the concatenation. */
export function sm3Concat(...parts: Uint8Array[]): Buffer {
  const h = createHash("sm3");
  for (const p of parts) h.update(p);
  return h.digest();
}
