/**
 * SM2DSA and SM2PKE on the keyring's KeyObjects, in the shape of the other algorithms' rows (a
 * signer with `sign`/`verify` over a RAW message or a DIGEST; encryption to a public key, decryption
 * with a private one), so the asymmetric operations plug SM2 in as one more row.
 *
 * RAW signs SM3(Z ‖ M) with Z of the signer id (default `1234567812345678`); DIGEST is that value,
 * 32 bytes, computed by the caller. A signer id is SM2's alone: other algorithms have none.
 */
import type { KeyObject } from "node:crypto";
import type { MessageType } from "@tessera/protocol";
import { sm2Decrypt, sm2Encrypt } from "./sm2-encrypt.js";
import { sm2PrivateKeyOf, sm2PublicKeyOf } from "./sm2-keyobject.js";
import { sm2Sign, sm2Verify, type Sm2SignInput } from "./sm2-sign.js";

function input(message: Uint8Array, messageType: MessageType, signerId: Uint8Array | undefined): Sm2SignInput {
  if (messageType === "DIGEST") {
    if (signerId !== undefined) throw new RangeError("a DIGEST already includes Z: a signer id does not apply");
    return { digest: message };
  }
  return signerId === undefined ? { message } : { message, id: signerId };
}

export const sm2Signer = Object.freeze({
  /** A DER signature of `message` (RAW) or of the digest `message` (DIGEST, 32 bytes). */
  sign(privateKey: KeyObject, message: Uint8Array, messageType: MessageType, signerId?: Uint8Array): Buffer {
    return sm2Sign(sm2PrivateKeyOf(privateKey), input(message, messageType, signerId));
  },
  /** True only for a valid signature; every malformed input is simply false. */
  verify(publicKey: KeyObject, message: Uint8Array, messageType: MessageType, signature: Uint8Array, signerId?: Uint8Array): boolean {
    try {
      return sm2Verify(sm2PublicKeyOf(publicKey), input(message, messageType, signerId), signature);
    } catch {
      return false;
    }
  },
});

/** SM2PKE to a public key: GM/T 0009 DER (C1 ‖ C3 ‖ C2). */
export function sm2PkeEncrypt(publicKey: KeyObject, plaintext: Uint8Array): Buffer {
  return sm2Encrypt(sm2PublicKeyOf(publicKey), plaintext);
}

/** SM2PKE decryption (DER or raw C1 ‖ C3 ‖ C2); every failure is `InvalidCiphertext`. The plaintext is the caller's to zero. */
export function sm2PkeDecrypt(privateKey: KeyObject, ciphertext: Uint8Array): Buffer {
  return sm2Decrypt(sm2PrivateKeyOf(privateKey), ciphertext);
}
