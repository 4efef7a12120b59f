/** Helpers for secret bytes: constant-time comparison, hashing of high-entropy tokens, zeroing. */
import { createHash, randomBytes, randomFillSync, timingSafeEqual } from "node:crypto";

/** Overwrites key material in place. Call in `finally` once a buffer is no longer needed. */
export function zero(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Constant-time equality of two byte strings (length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash("sha256").update(data).digest();
}

/**
 * Random bytes from the OS CSPRNG, served from a pool refilled with one `randomFillSync` call per
 * 4 KiB: a system call per nonce was a measurable share of each request (docs/performance.md).
 * Every byte is handed out once and zeroed in the pool as it leaves.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolAt = POOL_SIZE;

/** Writes `length` random bytes into `target` at `offset`. */
export function fillRandom(target: Uint8Array, offset: number, length: number): void {
  if (length > POOL_SIZE / 4) {
    randomFillSync(target, offset, length);
    return;
  }
  if (poolAt + length > POOL_SIZE) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(target, offset, poolAt, poolAt + length);
  pool.fill(0, poolAt, poolAt + length);
  poolAt += length;
}

export function random(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  fillRandom(out, 0, length);
  return out;
}

/** URL-safe random identifier with `bytes` bytes of entropy. */
export function randomId(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}
