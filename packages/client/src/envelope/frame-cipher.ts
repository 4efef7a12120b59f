/**
 * One frame's AES-256-GCM under the message key:
 *
 * ```
 * nonce = 8 zero bytes ‖ u32 sequence number          (sequence numbers start at 1; 0 is the header tag's)
 * AAD   = SHA-256(header, tag included) ‖ frame prefix (u8 type ‖ u32 sequence ‖ u32 content length)
 * ```
 *
 * The AAD binds every frame to its message's whole header and to its own position, kind and length,
 * so a frame moved, repeated, relabelled final or taken from another message fails its tag.
 * `openFrame` returns plaintext only after the tag verified.
 */
import { createCipheriv, createDecipheriv, createHash, type KeyObject } from "node:crypto";
import { FRAME_PREFIX_LENGTH, TAG_LENGTH, invalidCiphertext } from "./format.js";

export function headerDigest(header: Uint8Array): Buffer {
  return createHash("sha256").update(header).digest();
}

function frameNonce(sequence: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(sequence, 8);
  return nonce;
}

function frameAad(digest: Buffer, prefix: Uint8Array): Buffer {
  const aad = Buffer.allocUnsafe(digest.length + FRAME_PREFIX_LENGTH);
  digest.copy(aad, 0);
  aad.set(prefix.subarray(0, FRAME_PREFIX_LENGTH), digest.length);
  return aad;
}

/**
 * Encrypts one frame whose plaintext is `parts` (concatenated) and whose prefix is `prefix`; returns
 * the frame's wire pieces in order: prefix, ciphertext pieces, tag.
 */
export function sealFrame(key: KeyObject, digest: Buffer, sequence: number, prefix: Buffer, parts: readonly Uint8Array[]): Buffer[] {
  const cipher = createCipheriv("aes-256-gcm", key, frameNonce(sequence), { authTagLength: TAG_LENGTH });
  cipher.setAAD(frameAad(digest, prefix));
  const out: Buffer[] = [prefix];
  for (const part of parts) if (part.length > 0) out.push(cipher.update(part));
  const last = cipher.final();
  if (last.length > 0) out.push(last);
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * Decrypts one frame's ciphertext `parts` (concatenated); returns the plaintext in pieces (not joined:
 * a copy per frame would cost as much as a fifth of the decryption), or throws `InvalidCiphertext` if
 * the tag fails.
 */
export function openFrame(key: KeyObject, digest: Buffer, sequence: number, prefix: Uint8Array, parts: readonly Uint8Array[], tag: Uint8Array): Buffer[] {
  const decipher = createDecipheriv("aes-256-gcm", key, frameNonce(sequence), { authTagLength: TAG_LENGTH });
  decipher.setAAD(frameAad(digest, prefix));
  decipher.setAuthTag(tag);
  const out: Buffer[] = [];
  for (const part of parts) if (part.length > 0) out.push(decipher.update(part));
  try {
    const last = decipher.final();
    if (last.length > 0) out.push(last);
  } catch {
    throw invalidCiphertext();
  }
  return out;
}
