/**
 * Encrypts and decrypts Tessera ciphertexts (layout in @tessera/protocol, docs/formats.md).
 * `material` is one key version's 32-byte secret; this module never stores it.
 */
import {
  type CiphertextAlgorithm,
  type EncryptionContext,
  type ParsedCiphertext,
  assembleCiphertext,
  encodeContext,
  encodeHeader,
} from "@tessera/protocol";
import { aesGcmOpen, aesGcmSeal, hkdfSha256, zero } from "../crypto/index.js";

const ENCRYPT_INFO = Buffer.from("tessera/v1/encrypt", "utf8");
const DERIVE_INFO = Buffer.from("tessera/v1/derive", "utf8");
const EMPTY = new Uint8Array(0);

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
}

export function encryptEnvelope(p: EncryptParams): Uint8Array {
  const header = encodeHeader(p.algorithm, p.keyId, p.keyVersion);
  const context = encodeContext(p.context);
  const { key, owned } = messageKey(p.algorithm, p.material, context);
  try {
    const { nonce, sealed } = aesGcmSeal(key, p.plaintext, Buffer.concat([header, context]), p.nonce);
    return assembleCiphertext(header, nonce, sealed);
  } finally {
    if (owned) zero(key);
  }
}

/** Opens a parsed ciphertext; wrong key, context or any changed byte → `InvalidCiphertext`. */
export function decryptEnvelope(parsed: ParsedCiphertext, material: Uint8Array, context: EncryptionContext | undefined): Buffer {
  const encoded = encodeContext(context);
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
