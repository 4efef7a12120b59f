/**
 * Shamir shares of a 256-bit secret (an unseal key, or a recovery key) and the collector that holds
 * shares submitted one by one until a threshold is reached.
 *
 * Shares are the audited library's (`shamir-secret-sharing`, GF(2⁸)): 32 bytes ‖ one x-coordinate
 * byte, standard base64. 1-of-1 is the secret itself (Vault's convention: the library refuses 1-of-1).
 * Submitted shares are zeroed once combined, on failure, and on reset.
 */
import { combine, split } from "shamir-secret-sharing";
import { TesseraError } from "@tessera/protocol";
import { equalBytes, zero } from "../crypto/index.js";

export const SHARED_SECRET_LENGTH = 32;

export function validateShamirParameters(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1 || shares > 255) throw new TesseraError("InvalidInput", "shares must be 1–255", { field: "/shares" });
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new TesseraError("InvalidInput", "threshold must be between 1 and shares", { field: "/threshold" });
  }
  if (shares > 1 && threshold < 2) throw new TesseraError("InvalidInput", "threshold must be at least 2 when there is more than one share", { field: "/threshold" });
}

/** Splits `secret` into `shares` base64 shares, any `threshold` of which rebuild it. */
export async function splitSecret(secret: Uint8Array, shares: number, threshold: number): Promise<string[]> {
  validateShamirParameters(shares, threshold);
  // The library takes and returns plain Uint8Arrays: copies that are zeroed with the rest.
  const input = new Uint8Array(secret);
  let parts: Uint8Array[] = [];
  try {
    parts = shares === 1 ? [new Uint8Array(secret)] : await split(input, shares, threshold);
    return parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("base64"));
  } finally {
    zero(input, ...parts);
  }
}

function decodeShare(input: string, expectedLength: number, field: string): Buffer {
  const trimmed = input.trim();
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length !== expectedLength || bytes.toString("base64") !== trimmed) {
    zero(bytes);
    throw new TesseraError("InvalidInput", "a share is the base64 text printed by `tessera operator init` (or `rekey`)", { field });
  }
  return bytes;
}

/**
 * Holds submitted shares until `threshold` are there, then combines them. A malformed or repeated
 * share is `InvalidInput` and keeps the progress made; a combination that turns out wrong is the
 * caller's to detect (an AEAD tag) — `combine` cannot tell.
 */
export class ShareCollector {
  private held: Buffer[] = [];

  constructor(private readonly field = "/share") {}

  get count(): number {
    return this.held.length;
  }

  /** Adds a share; returns the combined secret (caller zeroes it) once `threshold` shares are held, and forgets the shares. */
  async add(input: string, threshold: number): Promise<Buffer | undefined> {
    const share = decodeShare(input, threshold === 1 ? SHARED_SECRET_LENGTH : SHARED_SECRET_LENGTH + 1, this.field);
    if (this.held.some((p) => equalBytes(p, share))) {
      zero(share);
      throw new TesseraError("InvalidInput", "this share was already submitted", { field: this.field });
    }
    this.held.push(share);
    if (this.held.length < threshold) return undefined;
    const copies = this.held.map((p) => new Uint8Array(p));
    try {
      if (threshold === 1) return Buffer.from(this.held[0]!);
      if (new Set(this.held.map((p) => p[p.length - 1])).size !== this.held.length) {
        throw new TesseraError("InvalidUnsealKey", "two of the shares are the same share index; progress reset");
      }
      const secret = await combine(copies);
      return Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      throw new TesseraError("InvalidUnsealKey", "the submitted shares do not combine; progress reset", { cause: err });
    } finally {
      zero(...copies);
      this.reset();
    }
  }

  reset(): void {
    zero(...this.held);
    this.held = [];
  }
}
