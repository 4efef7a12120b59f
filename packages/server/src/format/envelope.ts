/**
 * Encrypts and decrypts Tessera ciphertexts (layout in @tessera/protocol, docs/formats.md).
 * `material` is one key version's 32-byte secret; this module never stores it.
 *
 * Each algorithm is a suite: where its AEAD key comes from (the material, or HKDF of it and the
 * context) and which AEAD seals (AES-256-GCM for format v1, XAES-256-GCM for v2, SM4-GCM for v3,
 * AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305 with a 96-bit nonce for v4). New encryptions under
 * AES-256 keys use v2 algorithms, under SM4 keys v3, under AES-128 and ChaCha20 keys and in convergent
 * mode v4; v1 suites stay so that v1 ciphertexts open forever.
 *
 * Convergent suites (Vault's convergent version 3 design): HKDF-SHA256(material, "tessera/v4/convergent"
 * ‖ context) gives the AEAD key and a 32-byte nonce key; the nonce is the first 12 bytes of
 * HMAC-SHA256(nonce key, plaintext). Equal (version, context, plaintext) → equal ciphertext; a nonce
 * repeats under one AEAD key only for the same plaintext, so GCM's nonce-reuse failure cannot happen.
 * Opening recomputes the nonce from the plaintext and refuses a mismatch (a convergent ciphertext
 * whose nonce was not derived so is `InvalidCiphertext`).
 */
import {
  HEADER_LENGTH,
  TesseraError,
  TAG_LENGTH,
  type CiphertextAlgorithm,
  type EncryptionContext,
  type ParsedCiphertext,
  encodeContext,
  encodeHeader,
  nonceLengthOf,
} from "@tessera/protocol";
import type { KeyObject } from "node:crypto";
import {
  type Aead96,
  type XaesKey,
  AEAD96_NONCE_LENGTH,
  aead96KeyLengths,
  aead96Open,
  aead96SealInto,
  aesGcmOpen,
  aesGcmSealInto,
  equalBytes,
  hkdfSha256,
  hkdfSm3,
  hmac,
  sm4GcmOpen,
  sm4GcmSealInto,
  xaesGcmOpen,
  xaesGcmSealInto,
  zero,
} from "../crypto/index.js";

const DERIVE_INFO = Buffer.from("tessera/v1/derive", "utf8");
const EMPTY = new Uint8Array(0);
const EMPTY_CONTEXT = encodeContext(undefined);

interface Suite {
  /** Formats v1–v3 name their AEAD in capitals; v4's are node:crypto's names (crypto/aead96.ts). */
  aead: "AES-256-GCM" | "XAES-256-GCM" | "SM4-GCM" | Aead96;
  /** HKDF info prefix of derived mode (the message key is HKDF(material, info ‖ context)); absent: the material itself. */
  derivedInfo?: Buffer;
  /** Convergent mode: the nonce is derived from the plaintext (derivedInfo then gives key ‖ nonce key). */
  convergent?: true;
}

const V4_DERIVED = Buffer.from("tessera/v4/encrypt", "utf8");
const V4_CONVERGENT = Buffer.from("tessera/v4/convergent", "utf8");
/** Length of convergent mode's nonce key (HMAC-SHA256). */
const NONCE_KEY_LENGTH = 32;

const suites: Readonly<Record<CiphertextAlgorithm, Suite>> = Object.freeze({
  AES_256_GCM: { aead: "AES-256-GCM" },
  AES_256_GCM_DERIVED: { aead: "AES-256-GCM", derivedInfo: Buffer.from("tessera/v1/encrypt", "utf8") },
  XAES_256_GCM: { aead: "XAES-256-GCM" },
  // A label of its own: a v2 derived key never equals the v1 derived key of the same context.
  XAES_256_GCM_DERIVED: { aead: "XAES-256-GCM", derivedInfo: Buffer.from("tessera/v2/encrypt", "utf8") },
  SM4_GCM: { aead: "SM4-GCM" },
  AES_128_GCM: { aead: "aes-128-gcm" },
  AES_128_GCM_DERIVED: { aead: "aes-128-gcm", derivedInfo: V4_DERIVED },
  CHACHA20_POLY1305: { aead: "chacha20-poly1305" },
  CHACHA20_POLY1305_DERIVED: { aead: "chacha20-poly1305", derivedInfo: V4_DERIVED },
  AES_256_GCM_CONVERGENT: { aead: "aes-256-gcm", derivedInfo: V4_CONVERGENT, convergent: true },
  AES_128_GCM_CONVERGENT: { aead: "aes-128-gcm", derivedInfo: V4_CONVERGENT, convergent: true },
  CHACHA20_POLY1305_CONVERGENT: { aead: "chacha20-poly1305", derivedInfo: V4_CONVERGENT, convergent: true },
});

function isAead96(aead: Suite["aead"]): aead is Aead96 {
  return Object.hasOwn(aead96KeyLengths, aead);
}

/** The canonical encoding of a context; the empty context's is shared (the hot path's common case). */
function contextBytes(context: EncryptionContext | undefined): Uint8Array {
  if (context === undefined) return EMPTY_CONTEXT;
  for (const _ in context) return encodeContext(context);
  return EMPTY_CONTEXT;
}

interface MessageKey {
  key: Uint8Array;
  /** Convergent mode's nonce key (a view into the same derived buffer as `key`). */
  nonceKey?: Uint8Array;
  /** True when `key` was derived here and must be zeroed (with `nonceKey`). */
  owned: boolean;
}

/**
 * The AEAD key for a message: the material itself, or HKDF(material, info ‖ context) in derived
 * mode — as long as the AEAD's key (v1/v2: 32 bytes), plus a 32-byte nonce key in convergent mode.
 */
function messageKey(suite: Suite, material: Uint8Array, encodedContext: Uint8Array): MessageKey {
  if (suite.derivedInfo === undefined) return { key: material, owned: false };
  const keyLength = isAead96(suite.aead) ? aead96KeyLengths[suite.aead] : 32;
  const okm = hkdfSha256(material, EMPTY, Buffer.concat([suite.derivedInfo, encodedContext]), keyLength + (suite.convergent ? NONCE_KEY_LENGTH : 0));
  if (!suite.convergent) return { key: okm, owned: true };
  return { key: okm.subarray(0, keyLength), nonceKey: okm.subarray(keyLength), owned: true };
}

/** Convergent mode's nonce: the first 12 bytes of HMAC-SHA256(nonce key, plaintext). */
function convergentNonce(nonceKey: Uint8Array, plaintext: Uint8Array): Buffer {
  const mac = hmac("HMAC_SHA_256", nonceKey, plaintext);
  const nonce = Buffer.from(mac.subarray(0, AEAD96_NONCE_LENGTH));
  zero(mac);
  return nonce;
}

function release(k: MessageKey): void {
  if (!k.owned) return;
  zero(k.key);
  if (k.nonceKey !== undefined) zero(k.nonceKey);
}

export interface EncryptParams {
  algorithm: CiphertextAlgorithm;
  keyId: string;
  keyVersion: number;
  material: Uint8Array;
  plaintext: Uint8Array;
  context: EncryptionContext | undefined;
  /** Fixed nonce, for test vectors only; production callers leave it out. Never used in convergent mode. */
  nonce?: Uint8Array;
  /** `material` as a KeyObject, when the caller caches one (used by v4's non-derived suites: node:crypto is faster with it). */
  secret?: KeyObject;
  /** The header for (algorithm, keyId, keyVersion), when the caller has it cached. */
  header?: Uint8Array;
  /** `material` prepared as an XAES-256-GCM key, when the caller caches one (used by XAES_256_GCM only). */
  prepared?: XaesKey;
}

/** Builds the whole ciphertext in one buffer: header ‖ nonce ‖ AEAD output ‖ tag. */
export function encryptEnvelope(p: EncryptParams): Buffer {
  const suite = suites[p.algorithm];
  const header = p.header ?? encodeHeader(p.algorithm, p.keyId, p.keyVersion);
  const context = contextBytes(p.context);
  const mk = messageKey(suite, p.material, context);
  const { key, owned } = mk;
  try {
    const aad = Buffer.allocUnsafe(header.length + context.length);
    aad.set(header, 0);
    aad.set(context, header.length);
    const out = Buffer.allocUnsafe(HEADER_LENGTH + nonceLengthOf(p.algorithm) + p.plaintext.length + TAG_LENGTH);
    out.set(header, 0);
    if (isAead96(suite.aead)) {
      const nonce = mk.nonceKey === undefined ? p.nonce : convergentNonce(mk.nonceKey, p.plaintext);
      aead96SealInto(suite.aead, owned || p.secret === undefined ? key : p.secret, p.plaintext, aad, out, HEADER_LENGTH, nonce);
    } else if (suite.aead === "AES-256-GCM") aesGcmSealInto(key, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    else if (suite.aead === "SM4-GCM") sm4GcmSealInto(key, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    // The prepared key stands for the material only: a derived-mode key is made per message.
    else xaesGcmSealInto(owned || p.prepared === undefined ? key : p.prepared, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    return out;
  } finally {
    release(mk);
  }
}

/**
 * Opens a parsed ciphertext; wrong key, context or any changed byte → `InvalidCiphertext`.
 * `prepared` is `material` prepared as an XAES-256-GCM key, when the caller caches one.
 */
export function decryptEnvelope(
  parsed: ParsedCiphertext,
  material: Uint8Array,
  context: EncryptionContext | undefined,
  prepared?: XaesKey,
  secret?: KeyObject,
): Buffer {
  const suite = suites[parsed.algorithm];
  const encoded = contextBytes(context);
  const mk = messageKey(suite, material, encoded);
  const { key, owned } = mk;
  try {
    const aad = Buffer.concat([parsed.header, encoded]);
    if (isAead96(suite.aead)) {
      const plaintext = aead96Open(suite.aead, owned || secret === undefined ? key : secret, parsed.nonce, parsed.sealed, aad);
      if (mk.nonceKey !== undefined) {
        const expected = convergentNonce(mk.nonceKey, plaintext);
        if (!equalBytes(expected, parsed.nonce)) {
          zero(plaintext);
          throw new TesseraError("InvalidCiphertext");
        }
      }
      return plaintext;
    }
    if (suite.aead === "AES-256-GCM") return aesGcmOpen(key, parsed.nonce, parsed.sealed, aad);
    if (suite.aead === "SM4-GCM") return sm4GcmOpen(key, parsed.nonce, parsed.sealed, aad);
    return xaesGcmOpen(owned || prepared === undefined ? key : prepared, parsed.nonce, parsed.sealed, aad);
  } finally {
    release(mk);
  }
}

/**
 * A work key derived from a version's material and a caller context:
 * HKDF-SHA256(ikm = material, salt = empty, info = "tessera/v1/derive" ‖ encodeContext(context), L = length),
 * or HKDF-SM3 with the same inputs for SM4 keys (`hash: "sm3"`), so an SM4 key's derivations use the
 * Chinese commercial algorithms only. Distinct contexts give independent keys; a leaked work key reveals
 * neither the material nor its siblings.
 */
export function deriveWorkKey(material: Uint8Array, context: EncryptionContext, length: number, hash: "sha256" | "sm3" = "sha256"): Buffer {
  const info = Buffer.concat([DERIVE_INFO, encodeContext(context)]);
  return hash === "sm3" ? hkdfSm3(material, EMPTY, info, length) : hkdfSha256(material, EMPTY, info, length);
}
