/**
 * SM2DSA (GB/T 32918.2-2016): SM2 signatures over SM3, with the signer's distinguishing id bound in
 * through Z (§5.5). The signature is DER `SEQUENCE { r INTEGER, s INTEGER }` (GM/T 0009-2012 §7.3),
 * as OpenSSL (`openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:…`) and AWS KMS write it.
 *
 * Two inputs, as AWS's MessageType has them:
 * - a message M with an optional id (default `1234567812345678`): e = SM3(Z ‖ M), hashed here;
 * - a digest: e itself, 32 bytes, which the caller computed as SM3(Z ‖ M) (AWS: DIGEST for SM2).
 *
 * The signing and verifying equations (§6.1 A4–A7, §7.1 B5–B7) run in `sm-crypto-v2` on
 * `@noble/curves`; this module computes Z and e with node:crypto's SM3, and owns the checks the
 * library leaves out: r and s must lie in [1, n−1] (§7.1 B1–B2) and the DER must be canonical, so a
 * signature has one encoding. node:crypto cannot do this itself: its `crypto.sign` with an SM2 key
 * is ECDSA over the SM2 curve with no Z, which no GM/T verifier accepts.
 */
import { sm2 } from "sm-crypto-v2";
import { DerError, DerReader, TAG_SEQUENCE, derUnsigned, padStart, tlv } from "./der.js";
import { SM2_CURVE, SM2_DEFAULT_ID, type Sm2PrivateKey, type Sm2PublicKey, bytesScalar, toHex } from "./sm2-key.js";
import { SM3_LENGTH, sm3Concat } from "./sm3.js";

/** What is signed: a message (hashed with Z of the id) or a precomputed e = SM3(Z ‖ M). */
export type Sm2SignInput = { message: Uint8Array; id?: Uint8Array } | { digest: Uint8Array };

/** e for the input: SM3(Z ‖ M), or the caller's digest (exactly 32 bytes, else RangeError). */
export function sm2Digest(publicKey: Sm2PublicKey, input: Sm2SignInput): Buffer {
  if ("digest" in input) {
    if (input.digest.length !== SM3_LENGTH) throw new RangeError("an SM2 digest is 32 bytes (SM3 of Z ‖ M)");
    return Buffer.from(input.digest);
  }
  return sm3Concat(publicKey.z(input.id ?? SM2_DEFAULT_ID), input.message);
}

/**
 * Signs; returns the DER signature. `k` fixes the per-signature secret, for the standard's worked
 * example only (a repeated k reveals the key); production callers leave it out and the library draws
 * k from the CSPRNG (WebCrypto `getRandomValues`) for every signature.
 */
export function sm2Sign(key: Sm2PrivateKey, input: Sm2SignInput, k?: Uint8Array): Buffer {
  const e = sm2Digest(key.publicKey, input);
  const pointPool = k === undefined ? undefined : [fixedPoint(k)];
  const rs = sm2.doSignature(e, key.libraryForm(), { hash: false, der: false, ...(pointPool && { pointPool }) });
  const raw = Buffer.from(rs, "hex");
  if (raw.length !== 64) throw new Error("SM2 signing produced no signature");
  return encodeSignature(raw.subarray(0, 32), raw.subarray(32));
}

/** Whether `signature` (DER) is a valid SM2 signature of the input under `publicKey`. Never throws for bad input. */
export function sm2Verify(publicKey: Sm2PublicKey, input: Sm2SignInput, signature: Uint8Array): boolean {
  const rs = decodeSignature(signature);
  if (rs === undefined) return false;
  let e: Buffer;
  try {
    e = sm2Digest(publicKey, input);
  } catch {
    return false;
  }
  try {
    return sm2.doVerifySignature(e, toHex(rs.r) + toHex(rs.s), publicKey.point(), { hash: false, der: false });
  } catch {
    return false;
  }
}

/** DER SEQUENCE { r, s } from two big-endian magnitudes. */
export function encodeSignature(r: Uint8Array, s: Uint8Array): Buffer {
  return tlv(TAG_SEQUENCE, derUnsigned(r), derUnsigned(s));
}

/** r and s (32 bytes each) from a canonical DER signature, if both lie in [1, n−1]. */
export function decodeSignature(signature: Uint8Array): { r: Buffer; s: Buffer } | undefined {
  try {
    const outer = new DerReader(signature);
    const seq = outer.enter(TAG_SEQUENCE);
    outer.end();
    const r = padStart(seq.readUnsigned(), 32);
    const s = padStart(seq.readUnsigned(), 32);
    seq.end();
    for (const v of [r, s]) {
      const n = bytesScalar(v);
      if (n < 1n || n >= SM2_CURVE.n) return undefined;
    }
    return { r, s };
  } catch (err) {
    if (err instanceof DerError) return undefined;
    throw err;
  }
}

/** The library's precomputed (k, x1) pair for a given k: x1 is the x coordinate of [k]G. */
function fixedPoint(k: Uint8Array): { k: bigint; x1: bigint } {
  const kG = Buffer.from(sm2.getPublicKeyFromPrivateKey(toHex(k)), "hex");
  return { k: bytesScalar(k), x1: bytesScalar(kG.subarray(1, 33)) };
}
