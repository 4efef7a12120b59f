/**
 * ML-KEM-768 (FIPS 203) through node:crypto (OpenSSL 3.5), with key pairs derived from a 64-byte seed
 * (FIPS 203 §7.1 ML-KEM.KeyGen_internal(d, z)), so a key pair can be rebuilt from a secret that is
 * itself never stored. The seed travels only inside a PKCS#8 structure handed to OpenSSL
 * (the seed-only private-key form of draft-ietf-lamps-kyber-certificates).
 */
import { createPrivateKey, createPublicKey, decapsulate, encapsulate, type KeyObject } from "node:crypto";

export const ML_KEM_SEED_LENGTH = 64;
export const ML_KEM_768_CIPHERTEXT_LENGTH = 1088;

// PrivateKeyInfo { version 0, AlgorithmIdentifier { id-alg-ml-kem-768 (2.16.840.1.101.3.4.4.2) }, OCTET STRING { [0] seed(64) } }
const PKCS8_SEED_PREFIX = Buffer.from("3054020100300b0609608648016503040402044280" + "40", "hex");

export interface KemKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** The ML-KEM-768 key pair of a 64-byte seed: the same seed always gives the same pair. */
export function mlKem768FromSeed(seed: Uint8Array): KemKeyPair {
  if (seed.length !== ML_KEM_SEED_LENGTH) throw new RangeError("an ML-KEM seed is 64 bytes");
  const der = Buffer.concat([PKCS8_SEED_PREFIX, seed]);
  try {
    const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  } finally {
    der.fill(0);
  }
}

/** An ML-KEM-768 public key from its SubjectPublicKeyInfo (DER); throws on anything else. */
export function mlKem768PublicKey(spki: Uint8Array): KeyObject {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "ml-kem-768") throw new TypeError("not an ML-KEM-768 public key");
  return key;
}

export function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" });
}

/** A fresh 32-byte shared secret and the ciphertext that carries it to the private key's holder. */
export function kemEncapsulate(publicKey: KeyObject): { sharedKey: Buffer; ciphertext: Buffer } {
  return encapsulate(publicKey);
}

export function kemDecapsulate(privateKey: KeyObject, ciphertext: Uint8Array): Buffer {
  return decapsulate(privateKey, ciphertext);
}
