/** HKDF (RFC 5869) through node:crypto: HKDF-SHA256, and HKDF-SM3 for SM4 keys' derived work keys. */
import { hkdfSync } from "node:crypto";
import { secretKey, type SecretKeyInput } from "./secret-key.js";

export function hkdfSha256(ikm: SecretKeyInput, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  // RFC 5869 §2.3: L ≤ 255·HashLen.
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) throw new RangeError("HKDF output length out of range");
  return Buffer.from(hkdfSync("sha256", secretKey(ikm), salt, info, length));
}

/** HKDF with SM3 (GB/T 32905) as the hash: RFC 5869 over HMAC-SM3; HashLen is 32 as for SHA-256. */
export function hkdfSm3(ikm: SecretKeyInput, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) throw new RangeError("HKDF output length out of range");
  return Buffer.from(hkdfSync("sm3", secretKey(ikm), salt, info, length));
}
