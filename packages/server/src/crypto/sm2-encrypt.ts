/**
 * SM2PKE (GB/T 32918.4-2016): public-key encryption with SM3 for the KDF and the check value.
 *
 * C1 = [k]G, (x2, y2) = [k]P, t = KDF(x2 ‖ y2, |M|), C2 = M ⊕ t, C3 = SM3(x2 ‖ M ‖ y2), sent in the
 * order C1 ‖ C3 ‖ C2 (GB/T 32918.4-2016 §6.1; the older GM/T 0003.4-2012 used C1 ‖ C2 ‖ C3).
 *
 * Wire form — what we write: the ASN.1 DER of GM/T 0009-2012 §7.2 (GB/T 35276-2017),
 * `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING (C3), ciphertext OCTET STRING (C2) }`, which is
 * what OpenSSL's `pkeyutl -encrypt`/`-decrypt` and AWS KMS's SM2PKE use. What we read: that DER, and
 * the raw C1 ‖ C3 ‖ C2 with the uncompressed point (04 ‖ x ‖ y ‖ C3 ‖ C2), as JavaScript and Java SM2
 * libraries emit in their default "mode 1". The two cannot be confused (0x30 vs 0x04 first byte).
 * Raw C1 ‖ C2 ‖ C3 is not accepted: it is indistinguishable from C1 ‖ C3 ‖ C2 without trial
 * decryption — reorder it first (docs/formats.md).
 *
 * The elliptic-curve multiplications are `sm-crypto-v2`'s (on `@noble/curves`, constant-time scalar
 * multiplication, points validated on decoding); the scheme around them is written here, because
 * the library's `doEncrypt`/`doDecrypt` skip two of the standard's checks — a KDF output t of all
 * zeros must be rejected (§6.1 A5, §7.1 B4: C2 would equal M, which for a one-byte message happens
 * once in 256 encryptions) — and compare C3 with a variable-time string comparison, returning an
 * empty plaintext on failure. Here C3 is compared in constant time and every failure is one error.
 */
import { TesseraError } from "@tessera/protocol";
import { sm2 } from "sm-crypto-v2";
import { DerError, DerReader, TAG_OCTET_STRING, TAG_SEQUENCE, derUnsigned, padStart, tlv } from "./der.js";
import { secretBytes } from "./random.js";
import { equalBytes, zero } from "./secrets.js";
import { SM2_CURVE, type Sm2PrivateKey, type Sm2PublicKey, bytesScalar, toHex } from "./sm2-key.js";
import { SM3_LENGTH, sm3Concat } from "./sm3.js";

/** The longest plaintext accepted (the AWS KMS limit for asymmetric encryption is smaller still). */
export const SM2_MAX_PLAINTEXT = 64 * 1024;

/** KDF(Z, klen) of GB/T 32918.4 §5.4.3: SM3(Z ‖ ct) for ct = 1, 2, … (32-bit big-endian), truncated. */
export function sm2Kdf(z: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const ct = Buffer.alloc(4);
  for (let at = 0, i = 1; at < length; at += SM3_LENGTH, i++) {
    ct.writeUInt32BE(i);
    const block = sm3Concat(z, ct);
    block.copy(out, at, 0, Math.min(SM3_LENGTH, length - at));
    zero(block);
  }
  return out;
}

/** Parts of one ciphertext: C1 as 04 ‖ x ‖ y, C3, C2. */
interface Parts {
  c1: Buffer;
  c3: Buffer;
  c2: Buffer;
}

/**
 * Encrypts `plaintext` (1 … {@link SM2_MAX_PLAINTEXT} bytes) to `publicKey`; returns the GM/T 0009
 * DER. `k` fixes the ephemeral scalar, for the standard's worked example only (a repeated k
 * decrypts every message that shared it); production callers leave it out.
 */
export function sm2Encrypt(publicKey: Sm2PublicKey, plaintext: Uint8Array, k?: Uint8Array): Buffer {
  if (plaintext.length < 1 || plaintext.length > SM2_MAX_PLAINTEXT) throw new RangeError(`SM2 encrypts 1 … ${SM2_MAX_PLAINTEXT} bytes`);
  for (;;) {
    const scalar = k === undefined ? randomScalar() : Buffer.from(k);
    let shared: Uint8Array | undefined;
    let t: Buffer | undefined;
    try {
      const kHex = toHex(scalar);
      const c1 = Buffer.from(sm2.getPublicKeyFromPrivateKey(kHex), "hex"); // A2: C1 = [k]G
      shared = publicKey.point().multiply(bytesScalar(scalar)).toRawBytes(false); // A4: [k]P = (x2, y2)
      const x2 = shared.subarray(1, 33);
      const y2 = shared.subarray(33, 65);
      t = sm2Kdf(shared.subarray(1), plaintext.length); // A5
      if (isZero(t)) {
        if (k !== undefined) throw new RangeError("this k gives an all-zero key stream");
        continue; // A5: choose another k
      }
      const c2 = Buffer.alloc(plaintext.length);
      for (let i = 0; i < c2.length; i++) c2[i] = plaintext[i]! ^ t[i]!; // A6
      const c3 = sm3Concat(x2, plaintext, y2); // A7
      return encodeCiphertext({ c1, c3, c2 });
    } finally {
      zero(scalar, shared, t);
    }
  }
}

/** Decrypts a DER or raw C1 ‖ C3 ‖ C2 ciphertext; every failure is `InvalidCiphertext` with no detail. */
export function sm2Decrypt(key: Sm2PrivateKey, ciphertext: Uint8Array): Buffer {
  const parts = decodeCiphertext(ciphertext);
  if (parts === undefined) throw new TesseraError("InvalidCiphertext");
  let shared: Uint8Array | undefined;
  let t: Buffer | undefined;
  let m: Buffer | undefined;
  try {
    try {
      shared = sm2.ecdh(key.libraryForm(), toHex(parts.c1), false); // B1: C1 checked on the curve; B3: [d]C1
    } catch {
      throw new TesseraError("InvalidCiphertext");
    }
    if (shared.length !== 65) throw new TesseraError("InvalidCiphertext");
    t = sm2Kdf(shared.subarray(1), parts.c2.length); // B4
    m = Buffer.alloc(parts.c2.length);
    for (let i = 0; i < m.length; i++) m[i] = parts.c2[i]! ^ t[i]!; // B5
    const u = sm3Concat(shared.subarray(1, 33), m, shared.subarray(33, 65)); // B6
    // Both checks always run, so the time taken does not say which one failed.
    const ok = equalBytes(u, parts.c3) && !isZero(t);
    if (!ok) throw new TesseraError("InvalidCiphertext");
    const out = m;
    m = undefined;
    return out;
  } finally {
    zero(shared, t, m);
  }
}

/** GM/T 0009-2012 §7.2 DER. */
export function encodeCiphertext({ c1, c3, c2 }: Parts): Buffer {
  return tlv(TAG_SEQUENCE, derUnsigned(c1.subarray(1, 33)), derUnsigned(c1.subarray(33, 65)), tlv(TAG_OCTET_STRING, c3), tlv(TAG_OCTET_STRING, c2));
}

/** The parts of a DER or raw (04 ‖ x ‖ y ‖ C3 ‖ C2) ciphertext, or undefined if it is neither. C1 is not yet checked on the curve. */
export function decodeCiphertext(ciphertext: Uint8Array): Parts | undefined {
  if (ciphertext[0] === 0x04) {
    if (ciphertext.length < 65 + SM3_LENGTH + 1) return undefined;
    return {
      c1: Buffer.from(ciphertext.subarray(0, 65)),
      c3: Buffer.from(ciphertext.subarray(65, 65 + SM3_LENGTH)),
      c2: Buffer.from(ciphertext.subarray(65 + SM3_LENGTH)),
    };
  }
  try {
    const outer = new DerReader(ciphertext);
    const seq = outer.enter(TAG_SEQUENCE);
    outer.end();
    const x = padStart(seq.readUnsigned(), 32);
    const y = padStart(seq.readUnsigned(), 32);
    const c3 = Buffer.from(seq.read(TAG_OCTET_STRING));
    const c2 = Buffer.from(seq.read(TAG_OCTET_STRING));
    seq.end();
    if (c3.length !== SM3_LENGTH || c2.length === 0) return undefined;
    return { c1: Buffer.concat([Uint8Array.of(0x04), x, y]), c3, c2 };
  } catch (err) {
    if (err instanceof DerError) return undefined;
    throw err;
  }
}

function isZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** k uniform in [1, n−1] (§6.1 A1), by rejection sampling. The caller zeroes it. */
function randomScalar(): Buffer {
  for (;;) {
    const k = secretBytes(32);
    const v = bytesScalar(k);
    if (v >= 1n && v < SM2_CURVE.n) return k;
    zero(k);
  }
}
