/**
 * The root keys a node holds while unsealed. Normally one; two while the root is being rotated (the
 * newest seals everything new, every record opens under whichever root sealed it). Records are the
 * keyring-record layout (format/keyring-record.ts); each purpose has its own AAD.
 */
import { TesseraError } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { openRecord, sealRecord } from "../format/keyring-record.js";

export const ROOT_KEY_LENGTH = 32;

export interface RootKey {
  /** Names a root generation (random, not derived from the key); appears in seal records and backups. */
  id: string;
  key: Buffer;
}

export function newRootKey(): RootKey {
  return { id: `root-${secretBytes(6).toString("hex")}`, key: secretBytes(ROOT_KEY_LENGTH) };
}

export class RootRing {
  /** Oldest first; the last one is current. */
  private readonly roots: RootKey[];

  constructor(roots: readonly RootKey[]) {
    if (roots.length === 0) throw new RangeError("a root ring needs a root");
    this.roots = [...roots];
  }

  get current(): RootKey {
    return this.roots[this.roots.length - 1]!;
  }

  get ids(): string[] {
    return this.roots.map((r) => r.id);
  }

  /** Every root, oldest first. Callers must neither keep nor zero the keys. */
  all(): readonly RootKey[] {
    return this.roots;
  }

  seal(secret: Uint8Array, aad: Uint8Array): Buffer {
    return sealRecord(this.current.key, secret, aad);
  }

  /** Opens a record under whichever root sealed it; `InvalidCiphertext` when none does. */
  open(record: Uint8Array, aad: Uint8Array): Buffer {
    for (let i = this.roots.length - 1; i >= 0; i--) {
      try {
        return openRecord(this.roots[i]!.key, record, aad);
      } catch (err) {
        if (i === 0) throw err;
      }
    }
    throw new TesseraError("InvalidCiphertext");
  }

  /**
   * The record sealed under the current root: undefined when it already is, a new record when an
   * older root sealed it. `InvalidCiphertext` when no root opens it.
   */
  reseal(record: Uint8Array, aad: Uint8Array): Buffer | undefined {
    try {
      zero(openRecord(this.current.key, record, aad));
      return undefined;
    } catch {
      // sealed under an older root (or not at all: open throws)
    }
    const secret = this.open(record, aad);
    try {
      return this.seal(secret, aad);
    } finally {
      zero(secret);
    }
  }

  /** Zeroes every root (sealing, or after a rotation dropped the old one). */
  zero(): void {
    for (const r of this.roots) zero(r.key);
  }
}
