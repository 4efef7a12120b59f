/**
 * `tessera operator generate-root`: a new root token from a quorum of shares, as Vault's flow: the
 * starter gets a one-time pad (OTP) and a nonce; share holders submit shares with the nonce; the
 * answer to the last share holds the new token XOR the OTP, so only the starter can read it (nobody
 * watching the share holders' answers can). Open like unseal — the shares are the credential — and
 * rate-limited per address; every step is audited. Only while unsealed (as Vault): a seal ends an
 * attempt in progress, and none starts or takes shares until the next unseal.
 *
 * With several workers, starts (with the OTP), shares and cancels go through the quorum sequencer
 * (quorum-sequence.ts): every worker holds the same attempt and OTP, and the worker given the
 * threshold-th share creates the one root token.
 */
import { randomUUID } from "node:crypto";
import { TesseraError, type GenerateRootStatus, type QuorumShareRequest } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { TOKEN_PREFIX, type TokenService } from "../identity/token-service.js";
import type { Barrier } from "../seal/index.js";
import type { Store } from "../store/index.js";
import type { CallContext, Door } from "./door.js";
import { QuorumAttempt, zeroOpened } from "./quorum-attempt.js";
import { LocalSequencer, type AbandonEvent, type GenerateRootEvent, type QuorumEvent, type QuorumSequencer } from "./quorum-sequence.js";

/** The OTP is as long as a token (`tsr_` + 32 random bytes in unpadded base64url, token-service.ts): XOR needs equal lengths. */
export const ROOT_TOKEN_LENGTH = TOKEN_PREFIX.length + 43;

export function xorToken(token: Buffer, otp: Buffer): Buffer {
  if (token.length !== otp.length) throw new TesseraError("InvalidInput", "the OTP does not match the token's length");
  return Buffer.from(token.map((b, i) => b ^ otp[i]!));
}

interface Generating {
  quorum: QuorumAttempt;
  otp: Buffer;
}

export class GenerateRootService {
  private attempt: Generating | undefined;
  /** Why the last attempt ended unfinished, when not by a cancel (a worker restarted). */
  private abandoned: string | undefined;

  constructor(
    private readonly door: Door,
    private readonly barrier: Barrier,
    private readonly tokens: Pick<TokenService, "createRoot">,
    private readonly store: Pick<Store, "transaction">,
    private readonly sequencer: QuorumSequencer = new LocalSequencer(),
  ) {
    // A seal stops everything: an attempt in progress ends with it (its pad zeroed), as a rekey does.
    barrier.onSeal(() => this.clear());
  }

  /** Progress, for anyone (like seal-status): no secret in it. */
  status(): GenerateRootStatus {
    const a = this.attempt;
    if (a === undefined) return { started: false, progress: 0, required: 0, complete: false };
    return { started: true, nonce: a.quorum.nonce, progress: a.quorum.progress, required: a.quorum.required, complete: false };
  }

  start(ctx: CallContext): Promise<GenerateRootStatus> {
    return this.door.open(
      ctx,
      "sys:GenerateRoot",
      async () => {
        // As Vault: a root token is made only by an unsealed Tessera (unseal first, with the same shares).
        this.barrier.assertUnsealed();
        const required = QuorumAttempt.requiredFor(this.barrier.record);
        const pad = secretBytes(ROOT_TOKEN_LENGTH);
        const otp = pad.toString("base64");
        zero(pad);
        const event: GenerateRootEvent = { op: "generate-root", step: "start", nonce: randomUUID(), required, otp };
        const { status } = await this.sequencer.sequence(event, () => this.apply(event));
        return { ...status, otp };
      },
      { rateLimited: true },
    );
  }

  submit(ctx: CallContext, req: QuorumShareRequest): Promise<GenerateRootStatus> {
    return this.door.open(
      ctx,
      "sys:GenerateRoot",
      async () => {
        this.barrier.assertUnsealed();
        const event: GenerateRootEvent = { op: "generate-root", step: "share", nonce: req.nonce, share: req.share };
        const { status, reached } = await this.sequencer.sequence(event, () => this.apply(event));
        if (reached === undefined) return status;
        try {
          const token = await this.store.transaction((tx) => this.tokens.createRoot(tx));
          const bytes = Buffer.from(token, "utf8");
          try {
            const encodedToken = xorToken(bytes, reached.otp).toString("base64");
            return { started: false, progress: 0, required: reached.quorum.required, complete: true, encodedToken };
          } finally {
            zero(bytes);
          }
        } finally {
          zero(reached.otp);
        }
      },
      { rateLimited: true },
    );
  }

  cancel(ctx: CallContext): Promise<GenerateRootStatus> {
    return this.door.open(
      ctx,
      "sys:GenerateRoot",
      async () => {
        const event: GenerateRootEvent = { op: "generate-root", step: "cancel" };
        return (await this.sequencer.sequence(event, () => this.apply(event))).status;
      },
      { rateLimited: true },
    );
  }

  /** Another worker's quorum event, in the sequencer's order: the same change, no answer to give. */
  async takeIn(event: QuorumEvent): Promise<void> {
    if (event.op !== "generate-root" && event.op !== "all") return;
    const { reached } = await this.apply(event).catch(() => ({ reached: undefined }));
    // Completed by the worker that was given the last share: this one only forgets the pad.
    if (reached !== undefined) zero(reached.otp);
  }

  /**
   * One event's change, identical in every worker. `reached`: the threshold was met with shares
   * that open the record; the attempt has ended here, and the caller (if the share was its own)
   * creates the token, then zeroes the pad.
   */
  private async apply(event: GenerateRootEvent | AbandonEvent): Promise<{ status: GenerateRootStatus; reached?: Generating }> {
    switch (event.step) {
      case "start":
        if (this.attempt !== undefined) throw new TesseraError("InvalidState", "a root token generation is already in progress; cancel it first");
        this.attempt = { quorum: new QuorumAttempt(event.required, event.nonce), otp: Buffer.from(event.otp, "base64") };
        this.abandoned = undefined;
        return { status: this.status() };
      case "share": {
        const a = this.attempt;
        if (a === undefined) throw new TesseraError("InvalidState", this.abandoned ?? "no root token generation is in progress; start one first");
        const opened = await a.quorum.add(event.nonce, event.share, this.barrier.record!);
        if (opened === undefined) return { status: this.status() };
        zeroOpened(opened);
        if (this.attempt === a) this.attempt = undefined;
        return { status: this.status(), reached: a };
      }
      case "cancel":
        this.clear();
        return { status: this.status() };
      case "abandon":
        if (this.attempt !== undefined) {
          this.clear();
          this.abandoned = `the root token generation in progress was cancelled: ${event.reason}; start it again`;
        }
        return { status: this.status() };
    }
  }

  private clear(): void {
    if (this.attempt !== undefined) {
      this.attempt.quorum.cancel();
      zero(this.attempt.otp);
    }
    this.attempt = undefined;
    this.abandoned = undefined;
  }
}
