/**
 * Encrypts and decrypts Tessera ciphertexts (layout in @tessera/protocol, docs/formats.md).
 * `material` is one key version's 32-byte secret; this module never stores it.
 *
 * Each algorithm is a suite: where its AEAD key comes from (the material, or HKDF of it and the
 * context) and which AEAD seals (AES-256-GCM for format v1, XAES-256-GCM for v2, SM4-GCM for v3).
 * New encryptions under AES keys use v2 algorithms, under SM4 keys (16-byte material) v3; v1 suites
 * stay so that v1 ciphertexts open forever.
 */
import {
  HEADER_LENGTH,
  TAG_LENGTH,
  type CiphertextAlgorithm,
  type EncryptionContext,
  type ParsedCiphertext,
  encodeContext,
  encodeHeader,
  nonceLengthOf,
} from "@tessera/protocol";
import { type XaesKey, aesGcmOpen, aesGcmSealInto, hkdfSha256, hkdfSm3, sm4GcmOpen, sm4GcmSealInto, xaesGcmOpen, xaesGcmSealInto, zero } from "../crypto/index.js";

const DERIVE_INFO = Buffer.from("tessera/v1/derive", "utf8");
const EMPTY = new Uint8Array(0);
const EMPTY_CONTEXT = encodeContext(undefined);

interface Suite {
  aead: "AES-256-GCM" | "XAES-256-GCM" | "SM4-GCM";
  /** HKDF info prefix of derived mode (the message key is HKDF(material, info ‖ context)); absent: the material itself. */
  derivedInfo?: Buffer;
}

const suites: Readonly<Record<CiphertextAlgorithm, Suite>> = Object.freeze({
  AES_256_GCM: { aead: "AES-256-GCM" },
  AES_256_GCM_DERIVED: { aead: "AES-256-GCM", derivedInfo: Buffer.from("tessera/v1/encrypt", "utf8") },
  XAES_256_GCM: { aead: "XAES-256-GCM" },
  // A label of its own: a v2 derived key never equals the v1 derived key of the same context.
  XAES_256_GCM_DERIVED: { aead: "XAES-256-GCM", derivedInfo: Buffer.from("tessera/v2/encrypt", "utf8") },
  SM4_GCM: { aead: "SM4-GCM" },
});

/** The canonical encoding of a context; the empty context's is shared (the hot path's common case). */
function contextBytes(context: EncryptionContext | undefined): Uint8Array {
  if (context === undefined) return EMPTY_CONTEXT;
  for (const _ in context) return encodeContext(context);
  return EMPTY_CONTEXT;
}

/** The AEAD key for a message: the material itself, or HKDF(material, info ‖ context) in derived mode. */
function messageKey(suite: Suite, material: Uint8Array, encodedContext: Uint8Array): { key: Uint8Array; owned: boolean } {
  if (suite.derivedInfo === undefined) return { key: material, owned: false };
  return { key: hkdfSha256(material, EMPTY, Buffer.concat([suite.derivedInfo, encodedContext]), 32), owned: true };
}

export interface EncryptParams {
  algorithm: CiphertextAlgorithm;
  keyId: string;
  keyVersion: number;
  material: Uint8Array;
  plaintext: Uint8Array;
  context: EncryptionContext | undefined;
  /** Fixed nonce, for test vectors only; production callers leave it out. */
  nonce?: Uint8Array;
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
  const { key, owned } = messageKey(suite, p.material, context);
  try {
    const aad = Buffer.allocUnsafe(header.length + context.length);
    aad.set(header, 0);
    aad.set(context, header.length);
    const out = Buffer.allocUnsafe(HEADER_LENGTH + nonceLengthOf(p.algorithm) + p.plaintext.length + TAG_LENGTH);
    out.set(header, 0);
    if (suite.aead === "AES-256-GCM") aesGcmSealInto(key, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    else if (suite.aead === "SM4-GCM") sm4GcmSealInto(key, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    // The prepared key stands for the material only: a derived-mode key is made per message.
    else xaesGcmSealInto(owned || p.prepared === undefined ? key : p.prepared, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    return out;
  } finally {
    if (owned) zero(key);
  }
}

/**
 * Opens a parsed ciphertext; wrong key, context or any changed byte → `InvalidCiphertext`.
 * `prepared` is `material` prepared as an XAES-256-GCM key, when the caller caches one.
 */
export function decryptEnvelope(parsed: ParsedCiphertext, material: Uint8Array, context: EncryptionContext | undefined, prepared?: XaesKey): Buffer {
  const suite = suites[parsed.algorithm];
  const encoded = contextBytes(context);
  const { key, owned } = messageKey(suite, material, encoded);
  try {
    const aad = Buffer.concat([parsed.header, encoded]);
    if (suite.aead === "AES-256-GCM") return aesGcmOpen(key, parsed.nonce, parsed.sealed, aad);
    if (suite.aead === "SM4-GCM") return sm4GcmOpen(key, parsed.nonce, parsed.sealed, aad);
    return xaesGcmOpen(owned || prepared === undefined ? key : prepared, parsed.nonce, parsed.sealed, aad);
  } finally {
    if (owned) zero(key);
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
