/** Bytes across the service boundary: base64 in, base64 out, secret buffers zeroed once encoded. */
import { TesseraError } from "@tessera/protocol";
import { zero } from "../crypto/index.js";

/** Decodes a base64 field; longer than `max` bytes is `TooLarge` naming the field. */
export function decodeBytes(b64: string, field: string, max: number): Buffer {
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length > max) {
    zero(bytes);
    throw new TesseraError("TooLarge", `${field.slice(1)} must be at most ${max} bytes`, { field });
  }
  return bytes;
}

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** Base64 of a secret buffer, which is zeroed once encoded. */
export function b64AndZero(bytes: Buffer): string {
  try {
    return bytes.toString("base64");
  } finally {
    zero(bytes);
  }
}
