/**
 * Tessera's ciphertext format (docs/formats.md). Pure byte layout: no cryptography here.
 *
 * v1 layout (all integers big-endian):
 * ```
 *  0  1  magic 0x54 ("T")
 *  1  1  format version (0x01)
 *  2  1  algorithm id (see {@link algorithmIds})
 *  3 16  key id (UUID, binary)
 * 19  4  key version (uint32, ≥ 1)
 * 23 12  nonce
 * 35  n  AEAD ciphertext ‖ 16-byte tag
 * ```
 * v2 layout: the same 23-byte header with format version 0x02 and a v2 algorithm id
 * ({@link algorithmIdsV2}), then a 24-byte nonce (XAES-256-GCM, https://c2sp.org/XAES-256-GCM),
 * then AEAD ciphertext ‖ 16-byte tag. Random 192-bit nonces lift v1's limit of about 2^32 messages
 * per key version (NIST SP 800-38D §8.3) to about 2^80.
 *
 * v3 layout: the same 23-byte header with format version 0x03 and a v3 algorithm id
 * ({@link algorithmIdsV3}), then a 12-byte nonce, then AEAD ciphertext ‖ 16-byte tag: SM4-GCM
 * (RFC 8998 §3.1) for SM4 keys, the Chinese commercial block cipher beside AES.
 *
 * v4 layout: the same 23-byte header with format version 0x04 and a v4 algorithm id
 * ({@link algorithmIdsV4}), then a 12-byte nonce, then AEAD ciphertext ‖ 16-byte tag: AES-128-GCM
 * and ChaCha20-Poly1305 (RFC 8439) keys, and every key's convergent (deterministic) mode, whose nonce
 * is a PRF of the plaintext under a key derived from the version material and the context.
 *
 * The AEAD's additional data is the 23-byte header followed by {@link encodeContext}(context), so no
 * header byte and no context pair can change without the tag failing.
 *
 * Decoders are looked up by format version; a published decoder is never edited, only added to.
 * Every algorithm belongs to exactly one format version, so its id alone says how to lay out and
 * open a ciphertext; ids are never reused across versions.
 */
import { TesseraError } from "./errors.js";

export const CIPHERTEXT_MAGIC = 0x54;
export const HEADER_LENGTH = 23;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
export const MIN_CIPHERTEXT_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;
/** The format version new ciphertexts are written in. */
export const CURRENT_FORMAT_VERSION = 2;
/** Format v2's nonce: 192 bits (XAES-256-GCM). */
export const NONCE_LENGTH_V2 = 24;
export const MIN_CIPHERTEXT_LENGTH_V2 = HEADER_LENGTH + NONCE_LENGTH_V2 + TAG_LENGTH;

/** Format v1's wire algorithm ids. Values are fixed forever once published. */
export const algorithmIds = Object.freeze({
  /** AES-256-GCM with the key version's material as the key. */
  AES_256_GCM: 0x01,
  /** AES-256-GCM with HKDF-SHA256(material, info = "tessera/v1/encrypt" ‖ context) as the key (derived-mode keys). */
  AES_256_GCM_DERIVED: 0x02,
} as const);

/**
 * Format v2's wire algorithm ids: XAES-256-GCM (C2SP) with a 192-bit nonce. New ids, never one of
 * v1's, and valid only in a v2 ciphertext (as v1's are only in a v1 ciphertext).
 */
export const algorithmIdsV2 = Object.freeze({
  /** XAES-256-GCM with the key version's material as the key. */
  XAES_256_GCM: 0x03,
  /** XAES-256-GCM with HKDF-SHA256(material, info = "tessera/v2/encrypt" ‖ context) as the key (derived-mode keys). */
  XAES_256_GCM_DERIVED: 0x04,
} as const);

/**
 * Format v3's wire algorithm ids: SM4-GCM (RFC 8998 §3.1, GB/T 32907 SM4 with NIST SP 800-38D GCM)
 * with a 96-bit nonce, for SM4 keys. Valid only in a v3 ciphertext.
 */
export const algorithmIdsV3 = Object.freeze({
  /** SM4-GCM with the key version's 16-byte material as the key. */
  SM4_GCM: 0x05,
} as const);

/** Format v3's nonce: 96 bits (SM4-GCM). */
export const NONCE_LENGTH_V3 = 12;
export const MIN_CIPHERTEXT_LENGTH_V3 = HEADER_LENGTH + NONCE_LENGTH_V3 + TAG_LENGTH;

/**
 * Format v4's wire algorithm ids, all with a 96-bit nonce and a 128-bit tag. `_DERIVED`: the AEAD key
 * is HKDF-SHA256(material, info = "tessera/v4/encrypt" ‖ context); `_CONVERGENT`: the AEAD key and a
 * nonce key are HKDF-SHA256(material, info = "tessera/v4/convergent" ‖ context) and the nonce is the
 * first 12 bytes of HMAC-SHA256(nonce key, plaintext), so equal (context, plaintext) give equal
 * ciphertexts. Valid only in a v4 ciphertext.
 */
export const algorithmIdsV4 = Object.freeze({
  AES_128_GCM: 0x06,
  AES_128_GCM_DERIVED: 0x07,
  CHACHA20_POLY1305: 0x08,
  CHACHA20_POLY1305_DERIVED: 0x09,
  AES_256_GCM_CONVERGENT: 0x0a,
  AES_128_GCM_CONVERGENT: 0x0b,
  CHACHA20_POLY1305_CONVERGENT: 0x0c,
} as const);

/** Format v4's nonce: 96 bits. */
export const NONCE_LENGTH_V4 = 12;
export const MIN_CIPHERTEXT_LENGTH_V4 = HEADER_LENGTH + NONCE_LENGTH_V4 + TAG_LENGTH;

export type CiphertextAlgorithmV1 = keyof typeof algorithmIds;
export type CiphertextAlgorithmV2 = keyof typeof algorithmIdsV2;
export type CiphertextAlgorithmV3 = keyof typeof algorithmIdsV3;
export type CiphertextAlgorithmV4 = keyof typeof algorithmIdsV4;
export type CiphertextAlgorithm = CiphertextAlgorithmV1 | CiphertextAlgorithmV2 | CiphertextAlgorithmV3 | CiphertextAlgorithmV4;

/** The wire id of any algorithm, whatever its format version. */
export function algorithmId(algorithm: CiphertextAlgorithm): number {
  if (algorithm in algorithmIdsV4) return algorithmIdsV4[algorithm as CiphertextAlgorithmV4];
  if (algorithm in algorithmIdsV3) return algorithmIdsV3[algorithm as CiphertextAlgorithmV3];
  return algorithm in algorithmIdsV2 ? algorithmIdsV2[algorithm as CiphertextAlgorithmV2] : algorithmIds[algorithm as CiphertextAlgorithmV1];
}

/** The format version an algorithm's ciphertexts are written in. */
export function formatVersionOf(algorithm: CiphertextAlgorithm): 1 | 2 | 3 | 4 {
  if (algorithm in algorithmIdsV4) return 4;
  if (algorithm in algorithmIdsV3) return 3;
  return algorithm in algorithmIdsV2 ? 2 : 1;
}

/** The nonce length of an algorithm's format version. */
export function nonceLengthOf(algorithm: CiphertextAlgorithm): number {
  const version = formatVersionOf(algorithm);
  if (version === 4) return NONCE_LENGTH_V4;
  return version === 2 ? NONCE_LENGTH_V2 : version === 3 ? NONCE_LENGTH_V3 : NONCE_LENGTH;
}

const algorithmById = new Map<number, CiphertextAlgorithm>(
  Object.entries(algorithmIds).map(([name, id]) => [id, name as CiphertextAlgorithm]),
);

const algorithmByIdV2 = new Map<number, CiphertextAlgorithmV2>(
  Object.entries(algorithmIdsV2).map(([name, id]) => [id, name as CiphertextAlgorithmV2]),
);

const algorithmByIdV3 = new Map<number, CiphertextAlgorithmV3>(
  Object.entries(algorithmIdsV3).map(([name, id]) => [id, name as CiphertextAlgorithmV3]),
);

const algorithmByIdV4 = new Map<number, CiphertextAlgorithmV4>(
  Object.entries(algorithmIdsV4).map(([name, id]) => [id, name as CiphertextAlgorithmV4]),
);

export interface ParsedCiphertext {
  formatVersion: number;
  algorithm: CiphertextAlgorithm;
  keyId: string;
  keyVersion: number;
  /** The bytes the AEAD binds as the first part of its additional data. */
  header: Uint8Array;
  nonce: Uint8Array;
  /** AEAD output: encrypted bytes followed by the tag. */
  sealed: Uint8Array;
}

function invalid(): TesseraError {
  // One code, one message: a caller never learns which check failed.
  return new TesseraError("InvalidCiphertext");
}

const decoders: Readonly<Record<number, (bytes: Uint8Array) => ParsedCiphertext>> = Object.freeze({
  1: (bytes: Uint8Array): ParsedCiphertext => {
    if (bytes.length < MIN_CIPHERTEXT_LENGTH) throw invalid();
    const algorithm = algorithmById.get(bytes[2]!);
    if (algorithm === undefined) throw invalid();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keyVersion = view.getUint32(19);
    if (keyVersion === 0) throw invalid();
    return {
      formatVersion: 1,
      algorithm,
      keyId: uuidFromBytes(bytes.subarray(3, 19)),
      keyVersion,
      header: bytes.subarray(0, HEADER_LENGTH),
      nonce: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH),
      sealed: bytes.subarray(HEADER_LENGTH + NONCE_LENGTH),
    };
  },
  2: (bytes: Uint8Array): ParsedCiphertext => {
    if (bytes.length < MIN_CIPHERTEXT_LENGTH_V2) throw invalid();
    const algorithm = algorithmByIdV2.get(bytes[2]!);
    if (algorithm === undefined) throw invalid();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keyVersion = view.getUint32(19);
    if (keyVersion === 0) throw invalid();
    return {
      formatVersion: 2,
      algorithm,
      keyId: uuidFromBytes(bytes.subarray(3, 19)),
      keyVersion,
      header: bytes.subarray(0, HEADER_LENGTH),
      nonce: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH_V2),
      sealed: bytes.subarray(HEADER_LENGTH + NONCE_LENGTH_V2),
    };
  },
  3: (bytes: Uint8Array): ParsedCiphertext => {
    if (bytes.length < MIN_CIPHERTEXT_LENGTH_V3) throw invalid();
    const algorithm = algorithmByIdV3.get(bytes[2]!);
    if (algorithm === undefined) throw invalid();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keyVersion = view.getUint32(19);
    if (keyVersion === 0) throw invalid();
    return {
      formatVersion: 3,
      algorithm,
      keyId: uuidFromBytes(bytes.subarray(3, 19)),
      keyVersion,
      header: bytes.subarray(0, HEADER_LENGTH),
      nonce: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH_V3),
      sealed: bytes.subarray(HEADER_LENGTH + NONCE_LENGTH_V3),
    };
  },
  4: (bytes: Uint8Array): ParsedCiphertext => {
    if (bytes.length < MIN_CIPHERTEXT_LENGTH_V4) throw invalid();
    const algorithm = algorithmByIdV4.get(bytes[2]!);
    if (algorithm === undefined) throw invalid();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const keyVersion = view.getUint32(19);
    if (keyVersion === 0) throw invalid();
    return {
      formatVersion: 4,
      algorithm,
      keyId: uuidFromBytes(bytes.subarray(3, 19)),
      keyVersion,
      header: bytes.subarray(0, HEADER_LENGTH),
      nonce: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH_V4),
      sealed: bytes.subarray(HEADER_LENGTH + NONCE_LENGTH_V4),
    };
  },
});

/** Parses the layout of a ciphertext; throws `InvalidCiphertext` for anything malformed. */
export function parseCiphertext(bytes: Uint8Array): ParsedCiphertext {
  if (bytes.length < 2 || bytes[0] !== CIPHERTEXT_MAGIC) throw invalid();
  const decode = decoders[bytes[1]!];
  if (decode === undefined) throw invalid();
  return decode(bytes);
}

/** Builds the header for a key version and algorithm, in the algorithm's format version. */
export function encodeHeader(algorithm: CiphertextAlgorithm, keyId: string, keyVersion: number): Uint8Array {
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > 0xffffffff) {
    throw new RangeError("key version out of range");
  }
  const header = new Uint8Array(HEADER_LENGTH);
  header[0] = CIPHERTEXT_MAGIC;
  header[1] = formatVersionOf(algorithm);
  header[2] = algorithmId(algorithm);
  header.set(uuidToBytes(keyId), 3);
  new DataView(header.buffer).setUint32(19, keyVersion);
  return header;
}

/** Joins header, nonce and AEAD output into the wire form. */
export function assembleCiphertext(header: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + nonce.length + sealed.length);
  out.set(header, 0);
  out.set(nonce, header.length);
  out.set(sealed, header.length + nonce.length);
  return out;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export function uuidToBytes(uuid: string): Uint8Array {
  if (!isUuid(uuid)) throw new RangeError("not a lower-case UUID");
  const hex = uuid.replaceAll("-", "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function uuidFromBytes(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An encryption context: non-secret key/value strings bound to a ciphertext as additional data. */
export type EncryptionContext = Readonly<Record<string, string>>;

export const MAX_CONTEXT_BYTES = 8192;

const textEncoder = new TextEncoder();

/**
 * Checks an encryption context a caller sent: non-empty keys and an encoded size within
 * {@link MAX_CONTEXT_BYTES}. Throws `InvalidInput` naming `field`.
 */
export function checkContext(context: EncryptionContext | undefined, field = "/context"): void {
  if (context === undefined) return;
  let size = 2;
  for (const [k, v] of Object.entries(context)) {
    if (typeof v !== "string") throw new TesseraError("InvalidInput", `${field}/${k} must be a string`, { field: `${field}/${k}` });
    if (k.length === 0) throw new TesseraError("InvalidInput", `${field} keys must not be empty`, { field });
    size += 4 + textEncoder.encode(k).length + textEncoder.encode(v).length;
  }
  if (size > MAX_CONTEXT_BYTES) throw new TesseraError("InvalidInput", `${field} is larger than ${MAX_CONTEXT_BYTES} bytes encoded`, { field });
}

/**
 * Canonical encoding of an encryption context: uint16 pair count, then for each pair in ascending
 * byte order of the UTF-8 key: uint16 key length, key, uint16 value length, value. The empty context
 * encodes as two zero bytes. Keys must be non-empty.
 */
export function encodeContext(context: EncryptionContext | undefined): Uint8Array {
  const entries = Object.entries(context ?? {}).map(
    ([k, v]) => [textEncoder.encode(k), textEncoder.encode(v)] as const,
  );
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  let size = 2;
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 0xffff || v.length > 0xffff) throw new RangeError("context entry out of range");
    size += 4 + k.length + v.length;
  }
  if (entries.length > 0xffff) throw new RangeError("context has too many entries");
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length);
  let at = 2;
  for (const [k, v] of entries) {
    view.setUint16(at, k.length);
    out.set(k, at + 2);
    at += 2 + k.length;
    view.setUint16(at, v.length);
    out.set(v, at + 2);
    at += 2 + v.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
