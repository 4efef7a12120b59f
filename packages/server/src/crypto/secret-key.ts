/**
 * Raw key bytes as a node:crypto KeyObject, for every call that keys a cipher, HMAC or HKDF.
 *
 * Why: on Node 24 each createCipheriv/createDecipheriv/createHmac/hkdfSync given a raw buffer takes a
 * slow path in Node's key checks (about 13–20 µs of CPU per call on this machine, against 3–5 µs with
 * a KeyObject; bench/crypto.mjs, docs/performance.md). A KeyObject copies the bytes into native memory
 * that Node frees, and OpenSSL cleanses, with the object; callers keep zeroing their own buffers.
 * Long-lived keys (a key version's material, the audit HMAC key) are wrapped once and cached beside
 * their buffer, and dropped when the server seals.
 */
import { KeyObject, createSecretKey } from "node:crypto";

export type SecretKeyInput = Uint8Array | KeyObject;

export function secretKey(key: SecretKeyInput): KeyObject {
  return key instanceof KeyObject ? key : createSecretKey(key);
}

/** Length in bytes of a raw key or secret KeyObject. */
export function keyLength(key: SecretKeyInput): number {
  return key instanceof KeyObject ? (key.symmetricKeySize ?? 0) : key.length;
}
