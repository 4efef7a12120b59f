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
import { createCipheriv, type Cipheriv } from "node:crypto";
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
 * An XAES-256-GCM key prepared for many messages. The spec's steps 1–2 (L and the CMAC subkey K1)
 * depend on the key alone and "can be precomputed and reused across every operation that uses the
 * same input key": they run once here, and the AES-256 key schedule stays in one OpenSSL context, so
 * each message costs one 32-byte ECB update instead of a cipher setup and two updates.
 *
 * It holds key-derived secrets (K1 and the key schedule): its owner calls {@link destroy} when the key
 * goes away — the keyring does on seal and when it drops a key.
 */
export class XaesKey {
  #aes: Cipheriv | undefined;
  readonly #k1 = Buffer.alloc(BLOCK);
  /** Scratch for M1 ⊕ K1 ‖ M2 ⊕ K1; callers are synchronous, so one buffer serves every message. */
  readonly #m = Buffer.alloc(2 * BLOCK);

  constructor(key: Uint8Array) {
    if (key.length !== AES_256_KEY_LENGTH) throw new RangeError("XAES-256-GCM needs a 32-byte key");
    this.#aes = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    const l = this.#aes.update(ZERO_BLOCK); // 1. L = AES-256_K(0^128)
    // 2. K1 = L << 1, xor 0x87 into the last byte when MSB(L) = 1 (CMAC subkey, SP 800-38B §6.1).
    for (let i = 0; i < BLOCK; i++) this.#k1[i] = ((l[i]! << 1) | (i + 1 < BLOCK ? l[i + 1]! >>> 7 : 0)) & 0xff;
    if ((l[0]! & 0x80) !== 0) this.#k1[BLOCK - 1]! ^= 0x87;
    zero(l);
  }

  /** Kx for one message (steps 3–5; step 6, Nx = N[12:], is the caller's subarray). A new buffer the caller zeroes. */
  deriveKey(nonce: Uint8Array): Buffer {
    if (this.#aes === undefined) throw new RangeError("XaesKey used after destroy()");
    if (nonce.length !== XAES_NONCE_LENGTH) throw new RangeError("XAES-256-GCM nonce must be 24 bytes");
    const m = this.#m;
    // 3–4. M1 = 00 01 58 00 ‖ N[:12], M2 = 00 02 58 00 ‖ N[:12]
    m.set(PRF_PREFIX_1, 0);
    m.set(nonce.subarray(0, 12), 4);
    m.set(PRF_PREFIX_2, BLOCK);
    m.set(nonce.subarray(0, 12), BLOCK + 4);
    for (let i = 0; i < BLOCK; i++) {
      m[i]! ^= this.#k1[i]!;
      m[BLOCK + i]! ^= this.#k1[i]!;
    }
    // 5. Kx = AES-256_K(M1 ⊕ K1) ‖ AES-256_K(M2 ⊕ K1)
    const kx = this.#aes.update(m);
    m.fill(0);
    return kx;
  }

  /** Zeroes K1 and ends the OpenSSL context (which frees and cleanses its key schedule). Idempotent. */
  destroy(): void {
    zero(this.#k1, this.#m);
    if (this.#aes !== undefined) {
      this.#aes.final();
      this.#aes = undefined;
    }
  }
}

/** Kx for one message under a raw key: {@link XaesKey} prepared and destroyed for a single use. */
export function xaesDeriveKey(key: Uint8Array, nonce: Uint8Array): Buffer {
  const prepared = new XaesKey(key);
  try {
    return prepared.deriveKey(nonce);
  } finally {
    prepared.destroy();
  }
}

/** Kx for a raw key or a prepared one. */
function messageKey(key: Uint8Array | XaesKey, nonce: Uint8Array): Buffer {
  return key instanceof XaesKey ? key.deriveKey(nonce) : xaesDeriveKey(key, nonce);
}

/**
 * Seals into a caller's buffer: writes the 24-byte nonce ‖ ciphertext ‖ tag at `offset` of `out`
 * (room for 24 + plaintext + 16 bytes). `key` is the 32-byte key or an {@link XaesKey} prepared from
 * it. A random nonce unless `nonce` is given (test vectors only).
 */
export function xaesGcmSealInto(key: Uint8Array | XaesKey, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number, nonce?: Uint8Array): void {
  if (nonce === undefined) fillNonce(out, offset, XAES_NONCE_LENGTH);
  else if (nonce.length !== XAES_NONCE_LENGTH) throw new RangeError("XAES-256-GCM nonce must be 24 bytes");
  else out.set(nonce, offset);
  const n = out.subarray(offset, offset + XAES_NONCE_LENGTH);
  const kx = messageKey(key, n);
  try {
    gcmSealAt(kx, n.subarray(XAES_NONCE_LENGTH - GCM_NONCE_LENGTH), plaintext, aad, out, offset + XAES_NONCE_LENGTH);
  } finally {
    zero(kx);
  }
}

/** Seals to a new buffer (test vectors and callers without a layout of their own). */
export function xaesGcmSeal(key: Uint8Array | XaesKey, plaintext: Uint8Array, aad: Uint8Array, nonce?: Uint8Array): Sealed {
  const out = Buffer.allocUnsafe(XAES_NONCE_LENGTH + plaintext.length + GCM_TAG_LENGTH);
  xaesGcmSealInto(key, plaintext, aad, out, 0, nonce);
  return { nonce: out.subarray(0, XAES_NONCE_LENGTH), sealed: out.subarray(XAES_NONCE_LENGTH) };
}

/** Opens an XAES-256-GCM box (raw or prepared key); any failure is `InvalidCiphertext` with no detail. */
export function xaesGcmOpen(key: Uint8Array | XaesKey, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (!(key instanceof XaesKey) && key.length !== AES_256_KEY_LENGTH) throw new RangeError("XAES-256-GCM needs a 32-byte key");
  if (nonce.length !== XAES_NONCE_LENGTH || sealed.length < GCM_TAG_LENGTH) throw new TesseraError("InvalidCiphertext");
  const kx = messageKey(key, nonce);
  try {
    return aesGcmOpen(kx, nonce.subarray(XAES_NONCE_LENGTH - GCM_NONCE_LENGTH), sealed, aad);
  } finally {
    zero(kx);
  }
}
