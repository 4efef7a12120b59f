/**
 * Shamir seal: the roots are escrowed (share-escrow.ts) to a random 256-bit unseal key split with
 * Shamir's secret sharing into N shares, any K of which unseal. The unseal key is never stored.
 *
 * Records: `{type: "shamir", version: 2, escrow}`. The first layout, `{type: "shamir", shares,
 * threshold, wrappedRootKey}` (the root as a keyring record under the unseal key itself), still
 * opens, and is upgraded to version 2 by the unseal that opens it.
 *
 * Invariants: shares are never stored or logged; submitted shares live in memory only until the
 * threshold is reached or progress is reset, and are zeroed then; a wrong combination is detected
 * (derived public key, AEAD tags) and changes nothing.
 */
import { TesseraError } from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { ROOT_KEY_AAD, openRecord } from "../format/keyring-record.js";
import { newRootKey, type RootKey } from "./root-ring.js";
import type { InitOptions, Opened, ProtectResult, Seal, SealRecord, UnsealProgress } from "./seal.js";
import { createEscrow, escrowForSecret, openEscrow, reescrow, zeroEscrowKeys, type EscrowKeys, type EscrowRecord } from "./share-escrow.js";
import { ShareCollector } from "./shares.js";

export { validateShamirParameters } from "./shares.js";

export interface ShamirRecord extends SealRecord {
  type: "shamir";
  version: 2;
  escrow: EscrowRecord;
}

/** The first Shamir layout (before escrows): still opened, upgraded on unseal. */
export interface LegacyShamirRecord extends SealRecord {
  type: "shamir";
  shares: number;
  threshold: number;
  /** Root key sealed under the unseal key (keyring-record layout), base64. */
  wrappedRootKey: string;
}

const isLegacy = (record: SealRecord): record is LegacyShamirRecord => record.type === "shamir" && typeof record["wrappedRootKey"] === "string";

/** Shares and threshold of the quorum a record answers to (unseal shares, or PKCS#11 recovery shares). */
export function quorumOf(record: SealRecord): { shares: number; threshold: number } {
  if (isLegacy(record)) return { shares: record.shares, threshold: record.threshold };
  const escrow = record["escrow"] as EscrowRecord | undefined;
  if (escrow === undefined) throw new TesseraError("Internal", `a ${record.type} seal record without an escrow`);
  return { shares: escrow.shares, threshold: escrow.threshold };
}

/**
 * Opens any record's escrow with the secret a quorum of its shares combined into: the roots, the
 * escrow (upgraded when the record predates escrows) and its verified public key.
 * `InvalidUnsealKey` when the shares are not this record's.
 */
export async function openWithShares(record: SealRecord, shared: Uint8Array): Promise<Opened> {
  if (isLegacy(record)) {
    let key: Buffer;
    try {
      key = openRecord(shared, Buffer.from(record.wrappedRootKey, "base64"), ROOT_KEY_AAD);
    } catch (err) {
      throw new TesseraError("InvalidUnsealKey", "the submitted shares do not unseal this Tessera; progress reset", { cause: err });
    }
    const fresh = newRootKey();
    zero(fresh.key); // only its id is used: the root itself is the stored one
    const root: RootKey = { id: fresh.id, key };
    let escrowed: Awaited<ReturnType<typeof escrowForSecret>>;
    try {
      escrowed = await escrowForSecret(shared, record.shares, record.threshold, [root]);
    } catch (err) {
      zero(key);
      throw err;
    }
    const { escrow, escrowKey } = escrowed;
    const replacement: ShamirRecord = { type: "shamir", version: 2, escrow };
    return { roots: [root], escrow, escrowKey, replacement };
  }
  const escrow = record["escrow"] as EscrowRecord;
  const { roots, escrowKey } = await openEscrow(escrow, shared);
  return { roots, escrow, escrowKey };
}

export class ShamirSeal implements Seal {
  readonly type = "shamir" as const;
  readonly auto = false;
  private readonly collector = new ShareCollector();

  async protect(roots: readonly RootKey[], options: InitOptions): Promise<ProtectResult> {
    const { escrow, secrets, escrowKey } = await createEscrow(roots, options.shares, options.threshold);
    zeroEscrowKeys(escrowKey); // the node is sealed after init: the unseal derives them again
    const record: ShamirRecord = { type: "shamir", version: 2, escrow };
    return { record, secrets };
  }

  async reprotect(roots: readonly RootKey[], escrow: EscrowRecord, escrowKey: EscrowKeys): Promise<ShamirRecord> {
    return { type: "shamir", version: 2, escrow: await reescrow(escrow, escrowKey, roots) };
  }

  reset(): void {
    this.collector.reset();
  }

  pending(): number {
    return this.collector.count;
  }

  async close(): Promise<void> {
    this.reset();
  }

  async submit(record: SealRecord, input: string | undefined): Promise<UnsealProgress> {
    const { threshold } = quorumOf(record);
    if (input === undefined) return { progress: this.collector.count, threshold };
    const shared = await this.collector.add(input, threshold);
    if (shared === undefined) return { progress: this.collector.count, threshold };
    try {
      return { opened: await openWithShares(record, shared), progress: threshold, threshold };
    } finally {
      zero(shared);
    }
  }
}
