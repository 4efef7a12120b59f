/**
 * RSAES-OAEP (RFC 8017 §7.1) through node:crypto: MGF1 with the same hash as the label hash, empty
 * label — AWS's RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256. Ciphertexts are the raw k-byte OAEP
 * output, so anything that encrypts to the public key (OpenSSL, AWS SDKs' local encryption, WebCrypto)
 * produces what Decrypt takes. Every decryption failure is `InvalidCiphertext`, one message.
 */
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";

/** AWS's algorithms use sha1 and sha256; Vault's BYOK import (`hash_function`) any of these. */
export type OaepHash = "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

export function oaepEncrypt(publicKey: KeyObject, hash: OaepHash, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** The plaintext (the caller zeroes it), or `InvalidCiphertext` for anything that does not decrypt. */
export function oaepDecrypt(privateKey: KeyObject, hash: OaepHash, ciphertext: Uint8Array): Buffer {
  const k = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (ciphertext.length !== k) throw new TesseraError("InvalidCiphertext");
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw new TesseraError("InvalidCiphertext");
  }
}
