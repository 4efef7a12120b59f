/** Helpers for secret bytes: constant-time comparison, hashing of high-entropy tokens, zeroing. */
import { hash, timingSafeEqual } from "node:crypto";

/** Overwrites key material in place. Call in `finally` once a buffer is no longer needed. */
export function zero(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Constant-time equality of two byte strings (length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(data: Uint8Array | string): Buffer {
  return hash("sha256", data, "buffer");
}
