/**
 * What a key version's material is, per key spec: random bytes of the spec's length (symmetric
 * specs) or a private key, PKCS#8 DER (asymmetric specs, crypto/key-pairs.ts). Both are sealed under
 * the root key the same way (format/keyring-record.ts, AAD naming key id and version).
 *
 * A spec added to protocol's table needs a row in `symmetricKeyLengths` or `keyPairTypes`.
 */
import { TesseraError, isAsymmetricKeySpec, type KeySpec, type SymmetricKeySpec } from "@tessera/protocol";
import type { KeyObject } from "node:crypto";
import { keyPairTypes, privateKeyFromPkcs8, secretBytes, zero } from "../crypto/index.js";

/** Material length in bytes of each symmetric spec. */
export const symmetricKeyLengths: Readonly<Record<SymmetricKeySpec, number>> = Object.freeze({
  SYMMETRIC_DEFAULT: 32,
  SM4: 16,
  AES_128: 16,
  CHACHA20_POLY1305: 32,
  // HMAC keys: as long as the hash's output (RFC 2104 §3: shorter weakens, longer adds nothing).
  HMAC_224: 28,
  HMAC_256: 32,
  HMAC_384: 48,
  HMAC_512: 64,
  HMAC_SM3: 32,
});

/** New material for a version of a key of `spec`; the caller seals it and zeroes the buffer. */
export function newKeyMaterial(spec: KeySpec): Promise<Buffer> {
  if (isAsymmetricKeySpec(spec)) return keyPairTypes[spec].generate();
  return Promise.resolve(secretBytes(symmetricKeyLengths[spec]));
}

export type OpenedMaterial = { kind: "symmetric"; bytes: Buffer } | { kind: "asymmetric"; privateKey: KeyObject };

/**
 * Turns opened material into what the keyring keeps: the bytes (symmetric) or a private KeyObject,
 * in which case the DER buffer is zeroed here. Material that is not of the key's spec (a row whose
 * spec was changed in storage) is `Internal`, and zeroed.
 */
export function keepMaterial(spec: KeySpec, opened: Buffer): OpenedMaterial {
  if (!isAsymmetricKeySpec(spec)) {
    if (opened.length === symmetricKeyLengths[spec]) return { kind: "symmetric", bytes: opened };
    zero(opened);
    throw new TesseraError("Internal", `stored material does not fit key spec ${spec}`);
  }
  try {
    let privateKey: KeyObject;
    try {
      privateKey = privateKeyFromPkcs8(opened);
    } catch (cause) {
      throw new TesseraError("Internal", `stored material is not a private key`, { cause });
    }
    if (!keyPairTypes[spec].matches(privateKey)) throw new TesseraError("Internal", `stored private key is not of key spec ${spec}`);
    return { kind: "asymmetric", privateKey };
  } finally {
    zero(opened);
  }
}
