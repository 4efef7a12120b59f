/**
 * `tessera operator generate-root`: a new root token from a quorum of shares, as Vault's flow: the
 * starter gets a one-time pad (OTP) and a nonce; share holders submit shares with the nonce; the
 * answer to the last share holds the new token XOR the OTP, so only the starter can read it (nobody
 * watching the share holders' answers can). Open like unseal — the shares are the credential — and
 * rate-limited per address; every step is audited.
 */
import { TesseraError, type GenerateRootStatus, type QuorumShareRequest } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { TOKEN_PREFIX, type TokenService } from "../identity/token-service.js";
import type { Barrier } from "../seal/index.js";
import type { Store } from "../store/index.js";
import type { CallContext, Door } from "./door.js";
import { QuorumAttempt, zeroOpened } from "./quorum-attempt.js";

/** The OTP is as long as a token (`tsr_` + 32 random bytes in unpadded base64url, token-service.ts): XOR needs equal lengths. */
export const ROOT_TOKEN_LENGTH = TOKEN_PREFIX.length + 43;

export function xorToken(token: Buffer, otp: Buffer): Buffer {
  if (token.length !== otp.length) throw new TesseraError("InvalidInput", "the OTP does not match the token's length");
  return Buffer.from(token.map((b, i) => b ^ otp[i]!));
}

export class GenerateRootService {
  private attempt: { quorum: QuorumAttempt; otp: Buffer } | undefined;

  constructor(
    private readonly door: Door,
    private readonly barrier: Barrier,
    private readonly tokens: Pick<TokenService, "createRoot">,
    private readonly store: Pick<Store, "transaction">,
  ) {}

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
        if (this.attempt !== undefined) throw new TesseraError("InvalidState", "a root token generation is already in progress; cancel it first");
        const otp = secretBytes(ROOT_TOKEN_LENGTH);
        this.attempt = { quorum: QuorumAttempt.forRecord(this.barrier.record), otp };
        return { ...this.status(), otp: otp.toString("base64") };
      },
      { rateLimited: true },
    );
  }

  submit(ctx: CallContext, req: QuorumShareRequest): Promise<GenerateRootStatus> {
    return this.door.open(
      ctx,
      "sys:GenerateRoot",
      async () => {
        const a = this.attempt;
        if (a === undefined) throw new TesseraError("InvalidState", "no root token generation is in progress; start one first");
        const opened = await a.quorum.add(req.nonce, req.share, this.barrier.record!);
        if (opened === undefined) return this.status();
        zeroOpened(opened);
        const token = await this.store.transaction((tx) => this.tokens.createRoot(tx));
        const bytes = Buffer.from(token, "utf8");
        try {
          const encodedToken = xorToken(bytes, a.otp).toString("base64");
          return { started: false, progress: 0, required: a.quorum.required, complete: true, encodedToken };
        } finally {
          zero(bytes, a.otp);
          this.attempt = undefined;
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
        if (this.attempt !== undefined) {
          this.attempt.quorum.cancel();
          zero(this.attempt.otp);
        }
        this.attempt = undefined;
        return this.status();
      },
      { rateLimited: true },
    );
  }
}
