/**
 * Every signing algorithm of protocol's table (AWS SigningAlgorithmSpec), one row each: how it signs
 * and verifies a RAW message and, where the algorithm allows one, a DIGEST (a hash the caller computed).
 *
 * - RAW messages go to node:crypto (OpenSSL) in one call, keyed with KeyObjects.
 * - DIGEST, RSASSA-PKCS1-v1_5: the DigestInfo (RFC 8017 §9.2) is built here and padded and
 *   exponentiated by OpenSSL (`privateEncrypt` with PKCS#1 type-1 padding — which is what that
 *   signature scheme is). Verification re-encodes and compares in constant time (RFC 8017 §8.2.2).
 * - DIGEST, RSASSA-PSS: EMSA-PSS (rsa-pss.ts) encodes here, OpenSSL does the raw RSA operation.
 * - DIGEST, ECDSA: node:crypto cannot sign a prehashed message, so @noble/curves (audited) signs and
 *   verifies with the digest as the hash (ecdsa-digest.ts).
 *
 * Signatures are the standard encodings, so any implementation verifies them: RSA as RFC 8017, ECDSA
 * DER (RFC 3279 §2.2.3), Ed25519 RFC 8032 (64 bytes), ML-DSA FIPS 204, SM2DSA DER (GB/T 35276). PSS uses MGF1 with the same
 * hash and a salt as long as the hash, as AWS does.
 */
import { constants, privateEncrypt, publicDecrypt, sign, verify, type KeyObject } from "node:crypto";
import type { MessageType, SigningAlgorithm } from "@tessera/protocol";
import { equalBytes } from "./secrets.js";
import { pssSignDigest, pssVerifyDigest } from "./rsa-pss.js";
import { ecdsaSignDigest, ecdsaVerifyDigest } from "./ecdsa-digest.js";
import { sm2Signer } from "./sm2-operations.js";

export type HashName = "sha256" | "sha384" | "sha512";

export interface Signer {
  /**
   * Signs `message` (RAW) or the digest `message` (DIGEST; the caller checked its length).
   * `signerId` is SM2DSA's distinguishing id (RAW only); every other row ignores it, and the
   * operations refuse it for them before calling.
   */
  sign(privateKey: KeyObject, message: Uint8Array, messageType: MessageType, signerId?: Uint8Array): Buffer;
  /** True only for a valid signature; every malformed input is simply false. */
  verify(publicKey: KeyObject, message: Uint8Array, messageType: MessageType, signature: Uint8Array, signerId?: Uint8Array): boolean;
}

/** DigestInfo prefixes: DER of AlgorithmIdentifier ‖ OCTET STRING header (RFC 8017 §9.2, note 1). */
const DIGEST_INFO: Record<HashName, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** Node's verify throws for some malformed signatures (e.g. bad DER); a malformed signature is an invalid one. */
function quietly(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/**
 * RFC 8017 §8.1.2 and §8.2.2, step 1: an RSA signature is exactly as long as the modulus. OpenSSL
 * accepts a shorter one whose value is the same number (a leading zero byte dropped); a verifier
 * that keeps to the standard refuses it.
 */
function rsaLength(key: KeyObject, signature: Uint8Array): boolean {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return bits !== undefined && signature.length === Math.ceil(bits / 8);
}

function rsaPkcs1(hash: HashName): Signer {
  const opts = (key: KeyObject) => ({ key, padding: constants.RSA_PKCS1_PADDING });
  return {
    sign: (key, message, type) =>
      type === "RAW" ? sign(hash, message, opts(key)) : privateEncrypt(opts(key), Buffer.concat([DIGEST_INFO[hash], message])),
    verify: (key, message, type, signature) =>
      quietly(() => {
        if (!rsaLength(key, signature)) return false;
        if (type === "RAW") return verify(hash, message, opts(key), signature);
        const expected = Buffer.concat([DIGEST_INFO[hash], message]);
        return equalBytes(publicDecrypt(opts(key), signature), expected);
      }),
  };
}

function rsaPss(hash: HashName): Signer {
  const opts = (key: KeyObject) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] });
  return {
    sign: (key, message, type) => (type === "RAW" ? sign(hash, message, opts(key)) : pssSignDigest(key, hash, message)),
    verify: (key, message, type, signature) =>
      quietly(() => rsaLength(key, signature) && (type === "RAW" ? verify(hash, message, opts(key), signature) : pssVerifyDigest(key, hash, message, signature))),
  };
}

function ecdsa(hash: HashName): Signer {
  const opts = (key: KeyObject) => ({ key, dsaEncoding: "der" as const });
  return {
    sign: (key, message, type) => (type === "RAW" ? sign(hash, message, opts(key)) : ecdsaSignDigest(key, message)),
    verify: (key, message, type, signature) =>
      quietly(() => (type === "RAW" ? verify(hash, message, opts(key), signature) : ecdsaVerifyDigest(key, message, signature))),
  };
}

/** Algorithms that sign the message itself (no separate hash step in node:crypto's API): Ed25519, ML-DSA. */
const pure: Signer = {
  sign: (key, message) => sign(null, message, key),
  verify: (key, message, _type, signature) => quietly(() => verify(null, message, key, signature)),
};

export const signers: Readonly<Record<SigningAlgorithm, Signer>> = Object.freeze({
  RSASSA_PSS_SHA_256: rsaPss("sha256"),
  RSASSA_PSS_SHA_384: rsaPss("sha384"),
  RSASSA_PSS_SHA_512: rsaPss("sha512"),
  RSASSA_PKCS1_V1_5_SHA_256: rsaPkcs1("sha256"),
  RSASSA_PKCS1_V1_5_SHA_384: rsaPkcs1("sha384"),
  RSASSA_PKCS1_V1_5_SHA_512: rsaPkcs1("sha512"),
  ECDSA_SHA_256: ecdsa("sha256"),
  ECDSA_SHA_384: ecdsa("sha384"),
  ECDSA_SHA_512: ecdsa("sha512"),
  ED25519_SHA_512: pure,
  ML_DSA_SHAKE_256: pure,
  // GB/T 32918.2 with SM3 and a distinguishing id (default 1234567812345678): sm2-operations.ts.
  SM2DSA: sm2Signer,
});
