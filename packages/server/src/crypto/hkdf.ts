/** HKDF-SHA256 (RFC 5869) through node:crypto. */
import { hkdfSync } from "node:crypto";
import { secretKey, type SecretKeyInput } from "./secret-key.js";

export function hkdfSha256(ikm: SecretKeyInput, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  // RFC 5869 §2.3: L ≤ 255·HashLen.
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) throw new RangeError("HKDF output length out of range");
  return Buffer.from(hkdfSync("sha256", secretKey(ikm), salt, info, length));
}
