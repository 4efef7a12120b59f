/**
 * The SDK envelope message format's byte layout (docs/formats.md, "SDK envelope message format").
 * Pure layout: no cryptography, no I/O. All integers big-endian.
 *
 * ```
 * header   "TSEV" ‖ u8 version (0x01) ‖ u8 algorithm (0x01) ‖ message id (32)
 *          ‖ u8 len ‖ key id (UTF-8) ‖ u16 len ‖ wrapped data key ‖ u16 len ‖ encodeContext(context)
 *          ‖ u32 frame length ‖ commitment (32) ‖ header tag (16)
 * frame    u8 type (0x00 regular, 0x01 final) ‖ u32 sequence number ‖ u32 content length
 *          ‖ AES-256-GCM ciphertext (content length bytes) ‖ tag (16)
 * ```
 *
 * Decoders are looked up by format version; a published decoder is never edited, only added to.
 * Every failure to decode is `InvalidCiphertext`, one message: a caller never learns which check failed.
 */
import { TesseraError, encodeContext, MAX_CONTEXT_BYTES } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";

/** "TSEV" (Tessera SDK EnVelope); never 0x54 followed by a native ciphertext's version, so the two cannot be confused. */
const MAGIC = [0x54, 0x53, 0x45, 0x56] as const;
export const ENVELOPE_FORMAT_VERSION = 1;

/** Format v1's algorithm ids. Values are fixed forever once published. */
export const envelopeAlgorithms = Object.freeze({
  /** AES-256-GCM; message key and key commitment by HKDF-SHA-512(data key, salt = message id). */
  AES_256_GCM_HKDF_SHA512_COMMIT: 0x01,
} as const);
export type EnvelopeAlgorithm = keyof typeof envelopeAlgorithms;

export const MESSAGE_ID_LENGTH = 32;
export const DATA_KEY_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
export const TAG_LENGTH = 16;
export const MAX_KEY_ID_BYTES = 255;
/** A native Tessera ciphertext of a 32-byte data key is 95 bytes; anything past this is not one. */
export const MAX_WRAPPED_KEY_BYTES = 4096;
/**
 * Each frame costs a fixed few microseconds in node:crypto (a cipher object, AAD, tag) besides its
 * AES-GCM work: at 256 KiB that is a few per cent of the frame's time, at 64 KiB up to a fifth
 * (bench/envelope.mjs). A reader buffers at most one frame.
 */
export const DEFAULT_FRAME_LENGTH = 256 * 1024;
/** A reader buffers one frame: the bound keeps a hostile header from asking for gigabytes. */
export const MAX_FRAME_LENGTH = 16 * 1024 * 1024;
export const MAX_FRAMES = 0xffff_ffff;

export const FRAME_PREFIX_LENGTH = 9;
export const FRAME_REGULAR = 0x00;
export const FRAME_FINAL = 0x01;

/** Header bytes before the variable-length fields: magic, version, algorithm, message id. */
const FIXED_PREFIX = 4 + 1 + 1 + MESSAGE_ID_LENGTH;
/** The longest header a v1 decoder accepts: bounds what a reader buffers before the first frame. */
export const MAX_HEADER_LENGTH = FIXED_PREFIX + 1 + MAX_KEY_ID_BYTES + 2 + MAX_WRAPPED_KEY_BYTES + 2 + MAX_CONTEXT_BYTES + 4 + COMMITMENT_LENGTH + TAG_LENGTH;

export interface EnvelopeHeader {
  formatVersion: number;
  algorithm: EnvelopeAlgorithm;
  messageId: Buffer;
  /** The Tessera key the data key is wrapped under (its id as GenerateDataKey answered it). */
  keyId: string;
  /** The native Tessera ciphertext of the data key (GenerateDataKey's `ciphertext`, binary). */
  wrappedDataKey: Buffer;
  context: EncryptionContext;
  frameLength: number;
  commitment: Buffer;
  tag: Buffer;
  /** Every header byte before the tag: what the header tag authenticates. */
  authenticated: Buffer;
  /** The whole header, tag included. */
  bytes: Buffer;
}

export type HeaderFields = Pick<EnvelopeHeader, "messageId" | "keyId" | "wrappedDataKey" | "context" | "frameLength" | "commitment">;

export function invalidCiphertext(): TesseraError {
  return new TesseraError("InvalidCiphertext");
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The header bytes up to (not including) the header tag. Throws RangeError for out-of-range fields (a programming error). */
export function encodeHeaderBody(fields: HeaderFields): Buffer {
  const keyId = utf8.encode(fields.keyId);
  const context = encodeContext(fields.context);
  if (fields.messageId.length !== MESSAGE_ID_LENGTH) throw new RangeError("message id must be 32 bytes");
  if (keyId.length < 1 || keyId.length > MAX_KEY_ID_BYTES) throw new RangeError("key id must be 1 … 255 UTF-8 bytes");
  if (fields.wrappedDataKey.length < 1 || fields.wrappedDataKey.length > MAX_WRAPPED_KEY_BYTES) throw new RangeError("wrapped data key out of range");
  if (context.length > MAX_CONTEXT_BYTES) throw new RangeError("encryption context too large");
  if (!validFrameLength(fields.frameLength)) throw new RangeError("frame length out of range");
  if (fields.commitment.length !== COMMITMENT_LENGTH) throw new RangeError("commitment must be 32 bytes");
  const out = Buffer.alloc(FIXED_PREFIX + 1 + keyId.length + 2 + fields.wrappedDataKey.length + 2 + context.length + 4 + COMMITMENT_LENGTH);
  out.set(MAGIC, 0);
  out[4] = ENVELOPE_FORMAT_VERSION;
  out[5] = envelopeAlgorithms.AES_256_GCM_HKDF_SHA512_COMMIT;
  out.set(fields.messageId, 6);
  let at = FIXED_PREFIX;
  out[at] = keyId.length;
  out.set(keyId, at + 1);
  at += 1 + keyId.length;
  out.writeUInt16BE(fields.wrappedDataKey.length, at);
  out.set(fields.wrappedDataKey, at + 2);
  at += 2 + fields.wrappedDataKey.length;
  out.writeUInt16BE(context.length, at);
  out.set(context, at + 2);
  at += 2 + context.length;
  out.writeUInt32BE(fields.frameLength, at);
  out.set(fields.commitment, at + 4);
  return out;
}

export function validFrameLength(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_FRAME_LENGTH;
}

/**
 * Decodes a header from the start of `bytes`. Returns `undefined` while `bytes` is too short to hold
 * the whole header (a stream reader calls again with more); throws `InvalidCiphertext` as soon as
 * what is there cannot start a valid header.
 */
export function decodeHeader(bytes: Buffer): EnvelopeHeader | undefined {
  const magicBytes = Math.min(bytes.length, 4);
  for (let i = 0; i < magicBytes; i++) if (bytes[i] !== MAGIC[i]) throw invalidCiphertext();
  if (bytes.length < 5) return undefined;
  const decode = headerDecoders[bytes[4]!];
  if (decode === undefined) throw invalidCiphertext();
  return decode(bytes);
}

const headerDecoders: Readonly<Record<number, (bytes: Buffer) => EnvelopeHeader | undefined>> = Object.freeze({
  1: (bytes: Buffer): EnvelopeHeader | undefined => {
    if (bytes.length < FIXED_PREFIX + 1) return undefined;
    if (bytes[5] !== envelopeAlgorithms.AES_256_GCM_HKDF_SHA512_COMMIT) throw invalidCiphertext();
    let at = FIXED_PREFIX;
    const keyIdLength = bytes[at]!;
    if (keyIdLength === 0) throw invalidCiphertext();
    at += 1 + keyIdLength;
    if (bytes.length < at + 2) return undefined;
    const wrappedLength = bytes.readUInt16BE(at);
    if (wrappedLength === 0 || wrappedLength > MAX_WRAPPED_KEY_BYTES) throw invalidCiphertext();
    at += 2 + wrappedLength;
    if (bytes.length < at + 2) return undefined;
    const contextLength = bytes.readUInt16BE(at);
    if (contextLength < 2 || contextLength > MAX_CONTEXT_BYTES) throw invalidCiphertext();
    at += 2 + contextLength;
    const end = at + 4 + COMMITMENT_LENGTH + TAG_LENGTH;
    if (bytes.length < end) return undefined;
    const frameLength = bytes.readUInt32BE(at);
    if (!validFrameLength(frameLength)) throw invalidCiphertext();

    let cursor = FIXED_PREFIX + 1;
    const keyIdBytes = bytes.subarray(cursor, cursor + keyIdLength);
    cursor += keyIdLength + 2;
    const wrappedDataKey = bytes.subarray(cursor, cursor + wrappedLength);
    cursor += wrappedLength + 2;
    const encodedContext = bytes.subarray(cursor, cursor + contextLength);
    let keyId: string;
    try {
      keyId = strictUtf8.decode(keyIdBytes);
    } catch {
      throw invalidCiphertext();
    }
    const context = decodeContext(encodedContext);
    const whole = Buffer.from(bytes.subarray(0, end)); // a copy: the caller's buffer may be reused
    return {
      formatVersion: 1,
      algorithm: "AES_256_GCM_HKDF_SHA512_COMMIT",
      messageId: whole.subarray(6, 6 + MESSAGE_ID_LENGTH),
      keyId,
      wrappedDataKey: Buffer.from(wrappedDataKey),
      context,
      frameLength,
      commitment: whole.subarray(at + 4, at + 4 + COMMITMENT_LENGTH),
      tag: whole.subarray(end - TAG_LENGTH, end),
      authenticated: whole.subarray(0, end - TAG_LENGTH),
      bytes: whole,
    };
  },
});

/**
 * Decodes `encodeContext` bytes and accepts only the canonical form: the result must encode back to
 * exactly these bytes (keys sorted by UTF-8 bytes, no duplicates, valid UTF-8, nothing left over).
 */
export function decodeContext(bytes: Uint8Array): EncryptionContext {
  if (bytes.length < 2) throw invalidCiphertext();
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.readUInt16BE(0);
  const context: Record<string, string> = Object.create(null) as Record<string, string>;
  let at = 2;
  const take = (): string => {
    if (at + 2 > view.length) throw invalidCiphertext();
    const n = view.readUInt16BE(at);
    if (at + 2 + n > view.length) throw invalidCiphertext();
    const s = view.subarray(at + 2, at + 2 + n);
    at += 2 + n;
    try {
      return strictUtf8.decode(s);
    } catch {
      throw invalidCiphertext();
    }
  };
  for (let i = 0; i < count; i++) {
    const k = take();
    const v = take();
    if (k === "" || Object.hasOwn(context, k)) throw invalidCiphertext();
    context[k] = v;
  }
  if (at !== view.length) throw invalidCiphertext();
  const plain = { ...context };
  if (!Buffer.from(encodeContext(plain)).equals(view)) throw invalidCiphertext();
  return Object.freeze(plain);
}

export interface FramePrefix {
  type: typeof FRAME_REGULAR | typeof FRAME_FINAL;
  sequence: number;
  contentLength: number;
}

export function encodeFramePrefix(prefix: FramePrefix): Buffer {
  const out = Buffer.alloc(FRAME_PREFIX_LENGTH);
  out[0] = prefix.type;
  out.writeUInt32BE(prefix.sequence, 1);
  out.writeUInt32BE(prefix.contentLength, 5);
  return out;
}

/**
 * Decodes and checks a frame prefix against what must come next: sequence `expected`, regular
 * frames exactly `frameLength` long, the final frame 0 … `frameLength` long and empty only when it
 * is the only frame (a writer emits exactly one framing per plaintext).
 */
export function decodeFramePrefix(bytes: Uint8Array, expected: number, frameLength: number): FramePrefix {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, FRAME_PREFIX_LENGTH);
  const type = view[0];
  const sequence = view.readUInt32BE(1);
  const contentLength = view.readUInt32BE(5);
  if (sequence !== expected) throw invalidCiphertext();
  if (type === FRAME_REGULAR) {
    // The last sequence number is the final frame's: a regular frame there could have no successor.
    if (contentLength !== frameLength || sequence === MAX_FRAMES) throw invalidCiphertext();
    return { type, sequence, contentLength };
  }
  if (type === FRAME_FINAL) {
    if (contentLength > frameLength || (contentLength === 0 && sequence !== 1)) throw invalidCiphertext();
    return { type, sequence, contentLength };
  }
  throw invalidCiphertext();
}
