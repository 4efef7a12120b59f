/**
 * ECDSA over a digest the caller computed (AWS's MessageType DIGEST), which node:crypto cannot do (it
 * always hashes): @noble/curves signs and verifies with the digest as the hash (`prehash: false`),
 * high-S signatures allowed as OpenSSL and AWS allow them, DER-encoded (RFC 3279 §2.2.3). Nonces are
 * RFC 6979 deterministic, hedged with fresh randomness.
 *
 * The private scalar is read from the key's SEC 1 DER into a buffer zeroed after the call; @noble
 * holds it as a BigInt meanwhile, which JavaScript cannot zero (docs/security.md).
 */
import type { KeyObject } from "node:crypto";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { zero } from "./secrets.js";

const curves = { prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 } as const;

function curveOf(key: KeyObject) {
  const curve = curves[key.asymmetricKeyDetails?.namedCurve as keyof typeof curves];
  if (curve === undefined) throw new RangeError("not an ECDSA key of a supported curve");
  return curve;
}

/** The private scalar from SEC 1 ECPrivateKey DER: SEQUENCE { INTEGER 1, OCTET STRING d, … } (RFC 5915 §3). */
function privateScalar(key: KeyObject): Buffer {
  const der = key.export({ format: "der", type: "sec1" });
  try {
    let at = 1;
    at += der[at]! & 0x80 ? 1 + (der[at]! & 0x7f) : 1; // SEQUENCE length
    if (der[at] !== 0x02 || der[at + 1] !== 0x01 || der[at + 2] !== 0x01 || der[at + 3] !== 0x04) throw new RangeError("unexpected EC private key encoding");
    const length = der[at + 4]!;
    return Buffer.from(der.subarray(at + 5, at + 5 + length));
  } finally {
    zero(der);
  }
}

/** The uncompressed public point 04 ‖ x ‖ y. */
function publicPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
}

export function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const curve = curveOf(privateKey);
  const d = privateScalar(privateKey);
  try {
    return Buffer.from(curve.sign(digest, d, { prehash: false, lowS: false, format: "der", extraEntropy: true }));
  } finally {
    zero(d);
  }
}

export function ecdsaVerifyDigest(publicKey: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  return curveOf(publicKey).verify(signature, digest, publicPoint(publicKey), { prehash: false, lowS: false, format: "der" });
}
