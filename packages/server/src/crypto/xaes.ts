/**
 * XAES-256-GCM (C2SP, https://c2sp.org/XAES-256-GCM): a 256-bit key and a 192-bit nonce. Each
 * message's AES-256-GCM key Kx is derived from the key and the nonce's first 96 bits with the NIST SP
 * 800-108r1 counter KDF over single-block AES-256-CMAC; GCM then runs under Kx with the nonce's last
 * 96 bits. Random nonces are safe for about 2^80 messages per key (collision risk 2^-32), where
 * AES-256-GCM's 96-bit random nonces allow about 2^32.
 *
 * Built on node:crypto only: `aes-256-ecb` for the three single-block encryptions of the derivation,
 * `aes-256-gcm` (aead.ts) for the AEAD.
 */
import { createCipheriv } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { AES_256_KEY_LENGTH, GCM_NONCE_LENGTH, GCM_TAG_LENGTH, aesGcmOpen, gcmSealAt, type Sealed } from "./aead.js";
import { fillNonce } from "./random.js";
import { zero } from "./secrets.js";

export const XAES_NONCE_LENGTH = 24;

const BLOCK = 16;
const ZERO_BLOCK = new Uint8Array(BLOCK);
/** NIST SP 800-108r1 §4.1 fields of the PRF input: counter i (16 bits) ‖ Label "X" ‖ 0x00 separator. */
const PRF_PREFIX_1 = Uint8Array.of(0x00, 0x01, 0x58, 0x00);
const PRF_PREFIX_2 = Uint8Array.of(0x00, 0x02, 0x58, 0x00);

/**
 * The AES-256-GCM key for one message: the spec's "Detailed key derivation algorithm", steps 1–5.
 * (Step 6, Nx = N[12:], is the caller's subarray.) Returns a new 32-byte buffer the caller zeroes.
 */
export function xaesDeriveKey(key: Uint8Array, nonce: Uint8Array): Buffer {
  if (key.length !== AES_256_KEY_LENGTH) throw new RangeError("XAES-256-GCM needs a 32-byte key");
  if (nonce.length !== XAES_NONCE_LENGTH) throw new RangeError("XAES-256-GCM nonce must be 24 bytes");
  const aes = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const l = aes.update(ZERO_BLOCK); // 1. L = AES-256_K(0^128)
  const m = Buffer.alloc(2 * BLOCK);
  try {
    // 3–4. M1 = 00 01 58 00 ‖ N[:12], M2 = 00 02 58 00 ‖ N[:12]
    m.set(PRF_PREFIX_1, 0);
    m.set(nonce.subarray(0, 12), 4);
    m.set(PRF_PREFIX_2, BLOCK);
    m.set(nonce.subarray(0, 12), BLOCK + 4);
    // 2. K1 = L << 1, xor 0x87 into the last byte when MSB(L) = 1 (CMAC subkey, SP 800-38B §6.1),
    //    applied directly as the xor of step 5 into both blocks.
    const carry = (l[0]! & 0x80) !== 0 ? 0x87 : 0;
    for (let i = 0; i < BLOCK; i++) {
      let k1 = ((l[i]! << 1) | (i + 1 < BLOCK ? l[i + 1]! >>> 7 : 0)) & 0xff;
      if (i === BLOCK - 1) k1 ^= carry;
      m[i]! ^= k1;
      m[BLOCK + i]! ^= k1;
    }
    // 5. Kx = AES-256_K(M1 ⊕ K1) ‖ AES-256_K(M2 ⊕ K1)
    const kx = aes.update(m);
    aes.final();
    return kx;
  } finally {
    zero(l, m);
  }
}

/**
 * Seals into a caller's buffer: writes the 24-byte nonce ‖ ciphertext ‖ tag at `offset` of `out`
 * (room for 24 + plaintext + 16 bytes). A random nonce unless `nonce` is given (test vectors only).
 */
export function xaesGcmSealInto(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number, nonce?: Uint8Array): void {
  if (nonce === undefined) fillNonce(out, offset, XAES_NONCE_LENGTH);
  else if (nonce.length !== XAES_NONCE_LENGTH) throw new RangeError("XAES-256-GCM nonce must be 24 bytes");
  else out.set(nonce, offset);
  const n = out.subarray(offset, offset + XAES_NONCE_LENGTH);
  const kx = xaesDeriveKey(key, n);
  try {
    gcmSealAt(kx, n.subarray(XAES_NONCE_LENGTH - GCM_NONCE_LENGTH), plaintext, aad, out, offset + XAES_NONCE_LENGTH);
  } finally {
    zero(kx);
  }
}

/** Seals to a new buffer (test vectors and callers without a layout of their own). */
export function xaesGcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce?: Uint8Array): Sealed {
  const out = Buffer.allocUnsafe(XAES_NONCE_LENGTH + plaintext.length + GCM_TAG_LENGTH);
  xaesGcmSealInto(key, plaintext, aad, out, 0, nonce);
  return { nonce: out.subarray(0, XAES_NONCE_LENGTH), sealed: out.subarray(XAES_NONCE_LENGTH) };
}

/** Opens an XAES-256-GCM box; any failure is `InvalidCiphertext` with no detail. */
export function xaesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (key.length !== AES_256_KEY_LENGTH) throw new RangeError("XAES-256-GCM needs a 32-byte key");
  if (nonce.length !== XAES_NONCE_LENGTH || sealed.length < GCM_TAG_LENGTH) throw new TesseraError("InvalidCiphertext");
  const kx = xaesDeriveKey(key, nonce);
  try {
    return aesGcmOpen(kx, nonce.subarray(XAES_NONCE_LENGTH - GCM_NONCE_LENGTH), sealed, aad);
  } finally {
    zero(kx);
  }
}
