/**
 * `tessera operator rekey`: new unseal shares (recovery shares with the PKCS#11 seal) for the same
 * roots, after a quorum of the current ones; the old shares stop opening the stored record. Every
 * step needs a token allowed `sys:Rekey` on `sys`, and the shares are the second proof.
 */
import { TesseraError, type RekeyInitRequest, type RekeyStatus, type QuorumShareRequest } from "@tessera/protocol";
import { resources } from "../policy/index.js";
import { validateShamirParameters, type Barrier } from "../seal/index.js";
import type { Eraser } from "../store/index.js";
import type { CallContext, Door } from "./door.js";
import { QuorumAttempt, zeroOpened } from "./quorum-attempt.js";

export class RekeyService {
  private attempt: { quorum: QuorumAttempt; shares: number; threshold: number } | undefined;

  constructor(
    private readonly door: Door,
    private readonly barrier: Barrier,
    /** Told once the old seal record (the root under the old shares) is overwritten, so the store's files are erased. */
    private readonly eraser: Pick<Eraser, "destroyed">,
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
      if (this.attempt !== undefined) throw new TesseraError("InvalidState", "a rekey is already in progress; cancel it first (tessera operator rekey --cancel)");
      this.attempt = { quorum: QuorumAttempt.forRecord(this.barrier.record), shares: req.shares, threshold: req.threshold };
      return this.describe();
    });
  }

  submit(ctx: CallContext, req: QuorumShareRequest): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      const attempt = this.attempt;
      if (attempt === undefined) throw new TesseraError("InvalidState", "no rekey is in progress; start one with tessera operator rekey --shares N --threshold K");
      const opened = await attempt.quorum.add(req.nonce, req.share, this.barrier.record!);
      if (opened === undefined) return this.describe();
      zeroOpened(opened);
      const shares = await this.barrier.rekey({ shares: attempt.shares, threshold: attempt.threshold });
      this.attempt = undefined;
      await this.eraser.destroyed();
      return { started: false, progress: 0, required: attempt.quorum.required, complete: true, newShares: attempt.shares, newThreshold: attempt.threshold, shares };
    });
  }

  cancel(ctx: CallContext): Promise<RekeyStatus> {
    return this.door.run(ctx, "sys:Rekey", async (s) => {
      await s.authorize(resources.sys);
      this.clear();
      return this.describe();
    });
  }

  private clear(): void {
    this.attempt?.quorum.cancel();
    this.attempt = undefined;
  }

  private describe(): RekeyStatus {
    const a = this.attempt;
    if (a === undefined) return { started: false, progress: 0, required: 0, complete: false };
    return { started: true, nonce: a.quorum.nonce, progress: a.quorum.progress, required: a.quorum.required, newShares: a.shares, newThreshold: a.threshold, complete: false };
  }
}
