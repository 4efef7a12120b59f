/**
 * Per-message keys of the envelope format (docs/formats.md, "Derivation"):
 *
 * ```
 * message key = HKDF-SHA-512(IKM = data key, salt = message id, info = "tessera/envelope/v1/encrypt" ‖ 0x01, L = 32)
 * commitment  = HKDF-SHA-512(IKM = data key, salt = message id, info = "tessera/envelope/v1/commit"  ‖ 0x01, L = 32)
 * header tag  = AES-256-GCM(message key, nonce = 12 zero bytes, plaintext = empty, AAD = header before the tag)
 * ```
 *
 * (0x01 is the algorithm id.) The commitment is checked, in constant time, before anything is
 * decrypted: a message opens under exactly one data key (key commitment). Each message has its own
 * key, so the frame nonces (the sequence number, from 1) never repeat under a key even when a cached
 * data key encrypts many messages; nonce 0 is the header tag's.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from "node:crypto";
import { COMMITMENT_LENGTH, DATA_KEY_LENGTH, MESSAGE_ID_LENGTH, TAG_LENGTH, envelopeAlgorithms, invalidCiphertext } from "./format.js";

const ALGORITHM_ID = envelopeAlgorithms.AES_256_GCM_HKDF_SHA512_COMMIT;
const ENCRYPT_INFO = Buffer.concat([Buffer.from("tessera/envelope/v1/encrypt", "ascii"), Buffer.of(ALGORITHM_ID)]);
const COMMIT_INFO = Buffer.concat([Buffer.from("tessera/envelope/v1/commit", "ascii"), Buffer.of(ALGORITHM_ID)]);
const HEADER_NONCE = Buffer.alloc(12);

export interface MessageKeys {
  /** The message's AES-256-GCM key (node:crypto frees and cleanses it with the object). */
  key: KeyObject;
  commitment: Buffer;
}

/** Derives a message's key and commitment. Keeps no reference to `dataKey`; the caller zeroes it. */
export function deriveMessageKeys(dataKey: Uint8Array, messageId: Uint8Array): MessageKeys {
  if (dataKey.length !== DATA_KEY_LENGTH) throw new RangeError("data key must be 32 bytes");
  if (messageId.length !== MESSAGE_ID_LENGTH) throw new RangeError("message id must be 32 bytes");
  const raw = new Uint8Array(hkdfSync("sha512", dataKey, messageId, ENCRYPT_INFO, 32));
  try {
    return { key: createSecretKey(raw), commitment: Buffer.from(hkdfSync("sha512", dataKey, messageId, COMMIT_INFO, COMMITMENT_LENGTH)) };
  } finally {
    raw.fill(0);
  }
}

/** Throws `InvalidCiphertext` unless `stored` equals `expected` (constant time). */
export function checkCommitment(expected: Uint8Array, stored: Uint8Array): void {
  if (stored.length !== expected.length || !timingSafeEqual(expected, stored)) throw invalidCiphertext();
}

export function headerTag(key: KeyObject, authenticated: Uint8Array): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, HEADER_NONCE, { authTagLength: TAG_LENGTH });
  cipher.setAAD(authenticated);
  cipher.final();
  return cipher.getAuthTag();
}

/** Throws `InvalidCiphertext` unless `tag` authenticates `authenticated` under `key` (GCM's own check). */
export function verifyHeaderTag(key: KeyObject, authenticated: Uint8Array, tag: Uint8Array): void {
  const decipher = createDecipheriv("aes-256-gcm", key, HEADER_NONCE, { authTagLength: TAG_LENGTH });
  decipher.setAAD(authenticated);
  decipher.setAuthTag(tag);
  try {
    decipher.final();
  } catch {
    throw invalidCiphertext();
  }
}
