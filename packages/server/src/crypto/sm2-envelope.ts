/**
 * The `sm2pke` export algorithm: a GM/T-style digital envelope (docs/formats.md, "Wrapped export").
 *
 *   encapsulatedKey = SM2PKE(recipient, K)            GB/T 32918.4, GM/T 0009 DER of C1 ‖ C3 ‖ C2
 *   wrappedKey      = nonce ‖ SM4-GCM(K, nonce, payload, aad) ‖ tag     RFC 8998 §3.1: 12 + n + 16 bytes
 *
 * K is a fresh 16-byte SM4 key from the CSPRNG, used for this one message and zeroed before return
 * (also on failure). The nonce is random; with a single-use key any nonce would do.
 *
 * SM2PKE takes no label, so the binding string is `aad` alone: a changed binding fails SM4-GCM's
 * tag, and the SM4 key opens only with the recipient's SM2 private key.
 */
import { secretBytes } from "./random.js";
import { zero } from "./secrets.js";
import { sm2Encrypt } from "./sm2-encrypt.js";
import type { Sm2PublicKey } from "./sm2-key.js";
import { SM4_GCM_NONCE_LENGTH, SM4_GCM_TAG_LENGTH, SM4_KEY_LENGTH, sm4GcmSealInto } from "./sm4-gcm.js";

export function sm2Envelope(recipient: Sm2PublicKey, payload: Uint8Array, aad: Uint8Array): { encapsulatedKey: Buffer; wrappedKey: Buffer } {
  const key = secretBytes(SM4_KEY_LENGTH);
  try {
    const encapsulatedKey = sm2Encrypt(recipient, key);
    const wrappedKey = Buffer.alloc(SM4_GCM_NONCE_LENGTH + payload.length + SM4_GCM_TAG_LENGTH);
    sm4GcmSealInto(key, payload, aad, wrappedKey, 0);
    return { encapsulatedKey, wrappedKey };
  } finally {
    zero(key);
  }
}
