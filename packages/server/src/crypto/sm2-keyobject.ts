/**
 * SM2 keys held as node:crypto KeyObjects (the keyring keeps every asymmetric version as one, parsed
 * from its PKCS#8) turned into the SM2 objects sm2-sign.ts and sm2-encrypt.ts work with.
 *
 * OpenSSL 3 parses an SM2 PKCS#8 or SPKI into its own SM2 key type, which Node does not name
 * (`asymmetricKeyType` is undefined, `asymmetricKeyDetails` empty), so a key is recognised as SM2 by
 * its encoding: the curve OID in its DER. The conversion (DER export, parse, a base-point
 * multiplication for the public key) is cached per KeyObject in a WeakMap, so it runs once per key
 * version while the keyring holds it, and the cached object goes when the keyring drops the
 * KeyObject (on seal, or when the key changes).
 */
import type { KeyObject } from "node:crypto";
import { zero } from "./secrets.js";
import { Sm2KeyError, Sm2PrivateKey, Sm2PublicKey } from "./sm2-key.js";

const privateKeys = new WeakMap<KeyObject, Sm2PrivateKey>();
const publicKeys = new WeakMap<KeyObject, Sm2PublicKey>();

/** The SM2 private key in a private KeyObject; `Sm2KeyError` if it is not one. */
export function sm2PrivateKeyOf(key: KeyObject): Sm2PrivateKey {
  let sm2 = privateKeys.get(key);
  if (sm2 === undefined) {
    if (key.type !== "private") throw new Sm2KeyError("not a private key");
    let der: Buffer | undefined;
    try {
      der = key.export({ format: "der", type: "pkcs8" });
      sm2 = Sm2PrivateKey.fromPkcs8(der);
    } finally {
      zero(der);
    }
    privateKeys.set(key, sm2);
  }
  return sm2;
}

/** The SM2 public key in a public (or private) KeyObject; `Sm2KeyError` if it is not one. */
export function sm2PublicKeyOf(key: KeyObject): Sm2PublicKey {
  if (key.type === "private") return sm2PrivateKeyOf(key).publicKey;
  let sm2 = publicKeys.get(key);
  if (sm2 === undefined) {
    if (key.type !== "public") throw new Sm2KeyError("not a public key");
    sm2 = Sm2PublicKey.fromSpki(key.export({ format: "der", type: "spki" }));
    publicKeys.set(key, sm2);
  }
  return sm2;
}

/** Whether a KeyObject holds an SM2 key (curve 1.2.156.10197.1.301). */
export function isSm2Key(key: KeyObject): boolean {
  try {
    if (key.type === "private") sm2PrivateKeyOf(key);
    else sm2PublicKeyOf(key);
    return true;
  } catch {
    return false;
  }
}

/** A new SM2 private key as PKCS#8 DER (the keyring's material for SM2 versions); the caller zeroes it. */
export function generateSm2Pkcs8(): Buffer {
  return Sm2PrivateKey.generate().toPkcs8();
}
