/**
 * `tessera operator rekey`: new unseal shares (recovery shares with the PKCS#11 seal) for the same
 * roots, after a quorum of the current ones; the old shares stop opening the stored record. Every
 * step needs a token allowed `sys:Rekey` on `sys`, and the shares are the second proof.
 *
 * With several workers, starts, shares and cancels go through the quorum sequencer
 * (quorum-sequence.ts): every worker holds the same attempt, and the worker given the threshold-th
 * share completes it — once — and tells the others the new escrow's MAC key (`peers.rekeyed`).
 */
import { randomUUID } from "node:crypto";
import { TesseraError, type RekeyInitRequest, type RekeyStatus, type QuorumShareRequest } from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { resources } from "../policy/index.js";
import { validateShamirParameters, type Barrier } from "../seal/index.js";
import type { Eraser } from "../store/index.js";
import type { CallContext, Door } from "./door.js";
import type { SealPeers } from "./kms-service.js";
import { QuorumAttempt, zeroOpened } from "./quorum-attempt.js";
import { LocalSequencer, type AbandonEvent, type QuorumEvent, type QuorumSequencer, type RekeyEvent } from "./quorum-sequence.js";

interface Rekeying {
  quorum: QuorumAttempt;
  shares: number;
  threshold: number;
}

const NONE = "no rekey is in progress; start one with tessera operator rekey --shares N --threshold K";

export class RekeyService {
  private attempt: Rekeying | undefined;
  /** Why the last attempt ended unfinished, when not by a cancel or a seal (a worker restarted). */
  private abandoned: string | undefined;

  constructor(
    private readonly door: Door,
    private readonly barrier: Barrier,
    /** Told once the old seal record (the root under the old shares) is overwritten, so the store's files are erased. */
    private readonly eraser: Pick<Eraser, "destroyed">,
    private readonly sequencer: QuorumSequencer = new LocalSequencer(),
    private readonly peers?: Pick<SealPeers, "rekeyed">,
  ) {
    barrier.onSeal(() => this.clear());
  }

  /** A rekey is in progress (for the server itself; callers ask `status`). */
  get inProgress(): boolean {
    return this.attempt !== undefined;
  }

  status(ctx: CallContext): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      return this.describe();
    }, { readOnly: true });
  }

  start(ctx: CallContext, req: RekeyInitRequest): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      validateShamirParameters(req.shares, req.threshold);
      const event: RekeyEvent = { op: "rekey", step: "start", nonce: randomUUID(), required: QuorumAttempt.requiredFor(this.barrier.record), shares: req.shares, threshold: req.threshold };
      return (await this.sequencer.sequence(event, () => this.apply(event))).status;
    });
  }

  submit(ctx: CallContext, req: QuorumShareRequest): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      const { status, reached } = await this.sequencer.sequence({ op: "rekey", step: "share", nonce: req.nonce, share: req.share }, () =>
        this.apply({ op: "rekey", step: "share", nonce: req.nonce, share: req.share }),
      );
      if (reached === undefined) return status;
      const { shares, macKey } = await this.barrier.rekey({ shares: reached.shares, threshold: reached.threshold });
      try {
        await this.peers?.rekeyed(macKey, this.barrier.sealProvider.auto ? undefined : shares.slice(0, reached.threshold));
      } finally {
        zero(macKey);
      }
      await this.eraser.destroyed();
      return { started: false, progress: 0, required: reached.quorum.required, complete: true, newShares: reached.shares, newThreshold: reached.threshold, shares };
    });
  }

  cancel(ctx: CallContext): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      return (await this.sequencer.sequence({ op: "rekey", step: "cancel" }, () => this.apply({ op: "rekey", step: "cancel" }))).status;
    });
  }

  /** Another worker's quorum event, in the sequencer's order: the same change, no answer to give. */
  async takeIn(event: QuorumEvent): Promise<void> {
    if (event.op !== "rekey" && event.op !== "all") return;
    await this.apply(event).catch(() => undefined);
  }

  /**
   * One event's change, identical in every worker. `reached`: the threshold was met with shares
   * that open the record; the attempt has ended here, and the caller (if the share was its own)
   * completes the rekey.
   */
  private async apply(event: RekeyEvent | AbandonEvent): Promise<{ status: RekeyStatus; reached?: Rekeying }> {
    switch (event.step) {
      case "start":
        if (this.attempt !== undefined) throw new TesseraError("InvalidState", "a rekey is already in progress; cancel it first (tessera operator rekey --cancel)");
        this.attempt = { quorum: new QuorumAttempt(event.required, event.nonce), shares: event.shares, threshold: event.threshold };
        this.abandoned = undefined;
        return { status: this.describe() };
      case "share": {
        const a = this.attempt;
        if (a === undefined) throw new TesseraError("InvalidState", this.abandoned ?? NONE);
        const opened = await a.quorum.add(event.nonce, event.share, this.barrier.record!);
        if (opened === undefined) return { status: this.describe() };
        zeroOpened(opened);
        // Ends at the threshold whatever the completion's outcome, so every worker agrees it ended.
        if (this.attempt === a) this.attempt = undefined;
        return { status: this.describe(), reached: a };
      }
      case "cancel":
        this.clear();
        return { status: this.describe() };
      case "abandon":
        if (this.attempt !== undefined) {
          this.clear();
          this.abandoned = `the rekey in progress was cancelled: ${event.reason}; start it again`;
        }
        return { status: this.describe() };
    }
  }

  private clear(): void {
    this.attempt?.quorum.cancel();
    this.attempt = undefined;
    this.abandoned = undefined;
  }

  private describe(): RekeyStatus {
    const a = this.attempt;
    if (a === undefined) return { started: false, progress: 0, required: 0, complete: false };
    return { started: true, nonce: a.quorum.nonce, progress: a.quorum.progress, required: a.quorum.required, newShares: a.shares, newThreshold: a.threshold, complete: false };
  }
}
