/**
 * Key wrapping primitives shared by wrapped export and BYOK import:
 * - AES-KWP, AES Key Wrap with Padding (RFC 5649; NIST SP 800-38F KWP) with AES-256, through
 *   OpenSSL's `id-aes256-wrap-pad` and its RFC 5649 §3 alternative initial value A65959A6;
 * - RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1), optionally with a label;
 * - their composition RSA_AES_KEY_WRAP_SHA_256 as AWS KMS documents it: RSA-OAEP of a fresh AES-256
 *   key, then AES-KWP of the payload under it.
 *
 * Every unwrap failure is the one error `InvalidCiphertext` (which check failed is not said).
 */
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { secretBytes } from "./random.js";
import { zero } from "./secrets.js";
import { oaepDecrypt, type OaepHash } from "./rsa-oaep.js";
import { secretKey } from "./secret-key.js";

/** RFC 5649 §3: the alternative initial value, whose low 32 bits the cipher fills with the length. */
const KWP_IV = Buffer.from("a65959a6", "hex");
const AES_256_KEY_BYTES = 32;

export function aesKwpWrap(kek: Uint8Array | KeyObject, plaintext: Uint8Array): Buffer {
  const c = createCipheriv("id-aes256-wrap-pad", secretKey(kek), KWP_IV);
  return Buffer.concat([c.update(plaintext), c.final()]);
}

/** Unwraps; a wrong key or any change to the wrapped bytes is `InvalidCiphertext`. */
export function aesKwpUnwrap(kek: Uint8Array | KeyObject, wrapped: Uint8Array): Buffer {
  // RFC 5649: at least two 64-bit blocks, a whole number of them.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw new TesseraError("InvalidCiphertext");
  try {
    const d = createDecipheriv("id-aes256-wrap-pad", secretKey(kek), KWP_IV);
    const head = d.update(wrapped);
    const tail = d.final();
    if (tail.length === 0) return head;
    const out = Buffer.concat([head, tail]);
    zero(head);
    zero(tail);
    return out;
  } catch {
    throw new TesseraError("InvalidCiphertext");
  }
}

const oaep = (key: KeyObject, label?: Uint8Array) => ({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", ...(label !== undefined && label.length > 0 && { oaepLabel: label }) });

/** RSAES-OAEP-SHA-256 (MGF1-SHA-256) to a public key, with an optional label. */
export function rsaOaepSha256Encrypt(publicKey: KeyObject, plaintext: Uint8Array, label?: Uint8Array): Buffer {
  return publicEncrypt(oaep(publicKey, label), plaintext);
}

/** Decrypts RSAES-OAEP-SHA-256; any failure is `InvalidCiphertext`. */
export function rsaOaepSha256Decrypt(privateKey: KeyObject, ciphertext: Uint8Array, label?: Uint8Array): Buffer {
  try {
    return privateDecrypt(oaep(privateKey, label), ciphertext);
  } catch {
    throw new TesseraError("InvalidCiphertext");
  }
}

/**
 * RSA_AES_KEY_WRAP_SHA_256: a fresh AES-256 key encrypted with RSA-OAEP-SHA-256 (`encapsulatedKey`),
 * and the payload wrapped under it with AES-KWP (`wrappedKey`). AWS KMS sends the two concatenated.
 */
export function rsaAesKeyWrap(publicKey: KeyObject, payload: Uint8Array, label?: Uint8Array): { encapsulatedKey: Buffer; wrappedKey: Buffer } {
  const ephemeral = secretBytes(AES_256_KEY_BYTES);
  try {
    return { encapsulatedKey: rsaOaepSha256Encrypt(publicKey, ephemeral, label), wrappedKey: aesKwpWrap(ephemeral, payload) };
  } finally {
    zero(ephemeral);
  }
}

/**
 * Opens RSA_AES_KEY_WRAP_SHA_256 given as one blob: RSA ciphertext (the modulus' length) ‖ AES-KWP
 * (RFC 5649) — also Vault's BYOK import format, whose OAEP hash may be another (`hash`). Any failure
 * is `InvalidCiphertext`.
 */
export function rsaAesKeyUnwrap(privateKey: KeyObject, blob: Uint8Array, hash: OaepHash = "sha256"): Buffer {
  const rsaBytes = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (blob.length <= rsaBytes) throw new TesseraError("InvalidCiphertext");
  const ephemeral = hash === "sha256" ? rsaOaepSha256Decrypt(privateKey, blob.subarray(0, rsaBytes)) : oaepDecrypt(privateKey, hash, blob.subarray(0, rsaBytes));
  try {
    if (ephemeral.length !== AES_256_KEY_BYTES) throw new TesseraError("InvalidCiphertext");
    return aesKwpUnwrap(ephemeral, blob.subarray(rsaBytes));
  } finally {
    zero(ephemeral);
  }
}
