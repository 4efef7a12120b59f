/**
 * HMAC (RFC 2104) for HMAC keys: SHA-224/256/384/512 (FIPS 180-4) and SM3 (GB/T 32905; HMAC-SM3
 * as GB/T 15852.2 uses it), through node:crypto keyed with KeyObjects.
 *
 * Names are AWS KMS's MacAlgorithm values, plus HMAC_SM3 (Tessera only: AWS has no SM3 MAC).
 * Verification recomputes the MAC and compares in constant time; a MAC of the wrong length is
 * simply not equal (its length is public).
 */
import { createHmac } from "node:crypto";
import { equalBytes } from "./secrets.js";
import { secretKey, type SecretKeyInput } from "./secret-key.js";

export const macAlgorithms = Object.freeze(["HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512", "HMAC_SM3"] as const);
export type MacAlgorithm = (typeof macAlgorithms)[number];

/** The node:crypto digest and the MAC (= digest) length in bytes of each algorithm. */
export const macDigests: Readonly<Record<MacAlgorithm, { digest: string; length: number }>> = Object.freeze({
  HMAC_SHA_224: { digest: "sha224", length: 28 },
  HMAC_SHA_256: { digest: "sha256", length: 32 },
  HMAC_SHA_384: { digest: "sha384", length: 48 },
  HMAC_SHA_512: { digest: "sha512", length: 64 },
  HMAC_SM3: { digest: "sm3", length: 32 },
});

/** The MAC of `message` under `key`. An empty key is a programming error (RangeError). */
export function hmac(algorithm: MacAlgorithm, key: SecretKeyInput, message: Uint8Array): Buffer {
  const k = secretKey(key);
  if ((k.symmetricKeySize ?? 0) === 0) throw new RangeError("an HMAC key must not be empty");
  return createHmac(macDigests[algorithm].digest, k).update(message).digest();
}

/** Whether `mac` is the MAC of `message` under `key`, compared in constant time. */
export function verifyHmac(algorithm: MacAlgorithm, key: SecretKeyInput, message: Uint8Array, mac: Uint8Array): boolean {
  const expected = hmac(algorithm, key, message);
  try {
    return equalBytes(expected, mac);
  } finally {
    expected.fill(0);
  }
}
