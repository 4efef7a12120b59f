/**
 * Randomness, under two names for two jobs, so that a key can never be drawn from the nonce pool:
 *
 * - {@link nonce} / {@link fillNonce}: per-message public values (AEAD nonces), at most
 *   {@link MAX_NONCE_LENGTH} bytes per call, served from a pool refilled by one `randomFillSync` per
 *   4 KiB — a system call per nonce was a measurable share of each request (docs/performance.md).
 * - {@link secretBytes}: keys, data keys, root and unseal keys, HMAC keys, token and secret-id
 *   entropy: a fresh `crypto.randomBytes` call every time, never pooled, so no key exists in memory
 *   before it is made. The caller zeroes the buffer once it is no longer needed.
 *
 * The pool holds up to 4 KiB of *future* nonces; a memory disclosure (core file, heap snapshot, swap)
 * reveals nonces not yet used, which are public once used anyway — never a key.
 */
import { randomBytes, randomFillSync } from "node:crypto";

/** The longest value the pool serves: XAES-256-GCM's 192-bit nonce. */
export const MAX_NONCE_LENGTH = 24;

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolAt = POOL_SIZE;

/**
 * Writes a `length`-byte nonce (1 … {@link MAX_NONCE_LENGTH}) into `target` at `offset`. Every pool
 * byte is handed out once and zeroed in the pool as it leaves.
 */
export function fillNonce(target: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_NONCE_LENGTH) {
    throw new RangeError(`a nonce is 1 … ${MAX_NONCE_LENGTH} bytes; draw secrets with secretBytes()`);
  }
  if (poolAt + length > POOL_SIZE) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(target, offset, poolAt, poolAt + length);
  pool.fill(0, poolAt, poolAt + length);
  poolAt += length;
}

/** A fresh `length`-byte nonce (1 … {@link MAX_NONCE_LENGTH}) from the pool. */
export function nonce(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  fillNonce(out, 0, length);
  return out;
}

/** `length` bytes straight from the OS CSPRNG (one `crypto.randomBytes` call, never pooled). The caller zeroes it. */
export function secretBytes(length: number): Buffer {
  return randomBytes(length);
}

/** URL-safe random identifier or token with `bytes` bytes of entropy (from {@link secretBytes}). */
export function randomId(bytes: number): string {
  const raw = secretBytes(bytes);
  try {
    return raw.toString("base64url");
  } finally {
    raw.fill(0);
  }
}
