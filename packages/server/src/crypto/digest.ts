/**
 * Digests of caller-given bytes (the Vault API's `transit/hash`): SHA-2 and SHA-3 (FIPS 180-4,
 * FIPS 202) and SM3 (GB/T 32905), all OpenSSL's through node:crypto. Keyless: nothing secret here.
 */
import { hashBytes } from "./secrets.js";

/** Tessera's names for the digests it computes, each with OpenSSL's name. */
export const digestAlgorithms = Object.freeze({
  "sha2-224": "sha224",
  "sha2-256": "sha256",
  "sha2-384": "sha384",
  "sha2-512": "sha512",
  "sha3-224": "sha3-224",
  "sha3-256": "sha3-256",
  "sha3-384": "sha3-384",
  "sha3-512": "sha3-512",
  sm3: "sm3",
} as const);
export type DigestAlgorithm = keyof typeof digestAlgorithms;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return Object.hasOwn(digestAlgorithms, value);
}

export function digest(algorithm: DigestAlgorithm, data: Uint8Array): Buffer {
  return hashBytes(digestAlgorithms[algorithm], data);
}
