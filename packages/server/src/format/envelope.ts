/**
 * Encrypts and decrypts Tessera ciphertexts (layout in @tessera/protocol, docs/formats.md).
 * `material` is one key version's 32-byte secret; this module never stores it.
 */
import {
  HEADER_LENGTH,
  NONCE_LENGTH,
  TAG_LENGTH,
  type CiphertextAlgorithm,
  type EncryptionContext,
  type ParsedCiphertext,
  encodeContext,
  encodeHeader,
} from "@tessera/protocol";
import { aesGcmOpen, aesGcmSealInto, hkdfSha256, zero } from "../crypto/index.js";

const ENCRYPT_INFO = Buffer.from("tessera/v1/encrypt", "utf8");
const DERIVE_INFO = Buffer.from("tessera/v1/derive", "utf8");
const EMPTY = new Uint8Array(0);
const EMPTY_CONTEXT = encodeContext(undefined);

/** The canonical encoding of a context; the empty context's is shared (the hot path's common case). */
function contextBytes(context: EncryptionContext | undefined): Uint8Array {
  if (context === undefined) return EMPTY_CONTEXT;
  for (const _ in context) return encodeContext(context);
  return EMPTY_CONTEXT;
}

/** The AEAD key for a message: the material itself, or HKDF(material, context) in derived mode. */
function messageKey(algorithm: CiphertextAlgorithm, material: Uint8Array, encodedContext: Uint8Array): { key: Uint8Array; owned: boolean } {
  switch (algorithm) {
    case "AES_256_GCM":
      return { key: material, owned: false };
    case "AES_256_GCM_DERIVED":
      return { key: hkdfSha256(material, EMPTY, Buffer.concat([ENCRYPT_INFO, encodedContext]), 32), owned: true };
  }
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
}

/** Builds the whole ciphertext in one buffer: header ‖ nonce ‖ AES-GCM output ‖ tag. */
export function encryptEnvelope(p: EncryptParams): Buffer {
  const header = p.header ?? encodeHeader(p.algorithm, p.keyId, p.keyVersion);
  const context = contextBytes(p.context);
  const { key, owned } = messageKey(p.algorithm, p.material, context);
  try {
    const aad = Buffer.allocUnsafe(header.length + context.length);
    aad.set(header, 0);
    aad.set(context, header.length);
    const out = Buffer.allocUnsafe(HEADER_LENGTH + NONCE_LENGTH + p.plaintext.length + TAG_LENGTH);
    out.set(header, 0);
    aesGcmSealInto(key, p.plaintext, aad, out, HEADER_LENGTH, p.nonce);
    return out;
  } finally {
    if (owned) zero(key);
  }
}

/** Opens a parsed ciphertext; wrong key, context or any changed byte → `InvalidCiphertext`. */
export function decryptEnvelope(parsed: ParsedCiphertext, material: Uint8Array, context: EncryptionContext | undefined): Buffer {
  const encoded = contextBytes(context);
  const { key, owned } = messageKey(parsed.algorithm, material, encoded);
  try {
    return aesGcmOpen(key, parsed.nonce, parsed.sealed, Buffer.concat([parsed.header, encoded]));
  } finally {
    if (owned) zero(key);
  }
}

/**
 * A work key derived from a version's material and a caller context:
 * HKDF-SHA256(ikm = material, salt = empty, info = "tessera/v1/derive" ‖ encodeContext(context), L = length).
 * Distinct contexts give independent keys; a leaked work key reveals neither the material nor its siblings.
 */
export function deriveWorkKey(material: Uint8Array, context: EncryptionContext, length: number): Buffer {
  return hkdfSha256(material, EMPTY, Buffer.concat([DERIVE_INFO, encodeContext(context)]), length);
}
