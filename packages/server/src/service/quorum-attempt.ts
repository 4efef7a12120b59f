/**
 * A quorum operation in progress (rekey, generate-root), as in Vault: started once, then each
 * share holder submits a share with the attempt's nonce; at the threshold the shares must open the
 * stored record's escrow (unseal shares, or the PKCS#11 seal's recovery shares), or the attempt's
 * progress resets (`InvalidUnsealKey`). Shares live in memory only until combined, and are zeroed.
 */
import { randomUUID } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { ShareCollector, openWithShares, quorumOf, zeroEscrowKeys, type Opened, type SealRecord } from "../seal/index.js";

export class QuorumAttempt {
  private readonly collector = new ShareCollector();

  /** `nonce`: given when the attempt was started elsewhere (another worker) and relayed here. */
  constructor(
    readonly required: number,
    readonly nonce: string = randomUUID(),
  ) {}

  /** The shares the stored record needs (its quorum's threshold). */
  static requiredFor(record: SealRecord | undefined): number {
    if (record === undefined) throw new TesseraError("NotInitialized");
    return quorumOf(record).threshold;
  }

  get progress(): number {
    return this.collector.count;
  }

  /** Adds a share; once the threshold is reached, the record's roots (caller zeroes them) — or InvalidUnsealKey. */
  async add(nonce: string, share: string, record: SealRecord): Promise<Opened | undefined> {
    if (nonce !== this.nonce) throw new TesseraError("InvalidInput", "the nonce is not that of the attempt in progress", { field: "/nonce" });
    const shared = await this.collector.add(share, this.required);
    if (shared === undefined) return undefined;
    try {
      return await openWithShares(record, shared);
    } finally {
      zero(shared);
    }
  }

  cancel(): void {
    this.collector.reset();
  }
}

export function zeroOpened(opened: Opened | undefined): void {
  for (const r of opened?.roots ?? []) zero(r.key);
  zeroEscrowKeys(opened?.escrowKey);
}
