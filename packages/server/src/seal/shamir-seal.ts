/**
 * Shamir seal: a random 256-bit unseal key wraps the root key; the unseal key is split with
 * Shamir's secret sharing over GF(2^8) (the audited `shamir-secret-sharing` library) into N shares,
 * any K of which rebuild it. 1-of-1 uses the unseal key itself as the only share, as Vault does.
 *
 * Invariants: shares are never stored or logged; submitted shares live in memory only until the
 * threshold is reached or progress is reset, and are zeroed then; a wrong combination is detected by
 * the AEAD tag of the wrapped root key and changes nothing.
 */
import { combine, split } from "shamir-secret-sharing";
import { TesseraError } from "@tessera/protocol";
import { equalBytes, secretBytes, zero } from "../crypto/index.js";
import { ROOT_KEY_AAD, openRecord, sealRecord } from "../format/keyring-record.js";
import type { InitOptions, ProtectResult, Seal, SealRecord, UnsealProgress } from "./seal.js";

const UNSEAL_KEY_LENGTH = 32;

export interface ShamirRecord extends SealRecord {
  type: "shamir";
  shares: number;
  threshold: number;
  /** Root key sealed under the unseal key (keyring-record layout), base64. */
  wrappedRootKey: string;
}

export function validateShamirParameters(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1 || shares > 255) throw new TesseraError("InvalidInput", "shares must be 1–255", { field: "/shares" });
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new TesseraError("InvalidInput", "threshold must be between 1 and shares", { field: "/threshold" });
  }
  if (shares > 1 && threshold < 2) throw new TesseraError("InvalidInput", "threshold must be at least 2 when there is more than one share", { field: "/threshold" });
}

export class ShamirSeal implements Seal {
  readonly type = "shamir";
  private held: Buffer[] = [];

  async protect(rootKey: Uint8Array, options: InitOptions): Promise<ProtectResult> {
    const { shares, threshold } = options;
    validateShamirParameters(shares, threshold);
    const unsealKey = secretBytes(UNSEAL_KEY_LENGTH);
    // The library takes and returns plain Uint8Arrays: copies that are zeroed with the rest.
    const input = new Uint8Array(unsealKey);
    let parts: Uint8Array[] = [];
    try {
      parts = shares === 1 ? [new Uint8Array(unsealKey)] : await split(input, shares, threshold);
      const record: ShamirRecord = {
        type: "shamir",
        shares,
        threshold,
        wrappedRootKey: sealRecord(unsealKey, rootKey, ROOT_KEY_AAD).toString("base64"),
      };
      const secrets = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("base64"));
      return { record, secrets };
    } finally {
      zero(unsealKey, input, ...parts);
    }
  }

  describe(record: SealRecord): { threshold: number; shares: number } {
    const r = record as ShamirRecord;
    return { threshold: r.threshold, shares: r.shares };
  }

  reset(): void {
    zero(...this.held);
    this.held = [];
  }

  pending(): number {
    return this.held.length;
  }

  async submit(record: SealRecord, input: string | undefined): Promise<UnsealProgress> {
    const r = record as ShamirRecord;
    if (input === undefined) return { progress: this.held.length, threshold: r.threshold };
    const share = decodeShare(input, r.threshold === 1 ? UNSEAL_KEY_LENGTH : UNSEAL_KEY_LENGTH + 1);
    if (this.held.some((p) => equalBytes(p, share))) {
      zero(share);
      throw new TesseraError("InvalidInput", "this share was already submitted", { field: "/share" });
    }
    this.held.push(share);
    if (this.held.length < r.threshold) return { progress: this.held.length, threshold: r.threshold };

    let unsealKey: Uint8Array | undefined;
    const copies = this.held.map((p) => new Uint8Array(p));
    try {
      if (r.threshold === 1) {
        unsealKey = Buffer.from(this.held[0]!);
      } else {
        if (new Set(this.held.map((p) => p[p.length - 1])).size !== this.held.length) {
          throw new TesseraError("InvalidUnsealKey", "two of the shares are the same share index; progress reset");
        }
        unsealKey = await combine(copies);
      }
      const rootKey = openRecord(unsealKey, Buffer.from(r.wrappedRootKey, "base64"), ROOT_KEY_AAD);
      return { rootKey, progress: r.threshold, threshold: r.threshold };
    } catch (err) {
      if (err instanceof TesseraError && err.code === "InvalidUnsealKey") throw err;
      throw new TesseraError("InvalidUnsealKey", "the submitted shares do not unseal this Tessera; progress reset", { cause: err });
    } finally {
      zero(unsealKey, ...copies);
      this.reset();
    }
  }
}

function decodeShare(input: string, expectedLength: number): Buffer {
  const trimmed = input.trim();
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length !== expectedLength || bytes.toString("base64") !== trimmed) {
    zero(bytes);
    throw new TesseraError("InvalidInput", "a share is the base64 text printed by `tessera operator init`", { field: "/share" });
  }
  return bytes;
}
