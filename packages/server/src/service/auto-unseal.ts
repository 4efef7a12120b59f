/**
 * A node with an auto seal (the HSM) unseals itself at start: the seal opens the stored roots, then
 * the barrier opens through the door as the system's change (`sys:AutoUnseal`). While the HSM cannot
 * be reached the node stays sealed, says why (status `error`, the server log — naming the library
 * and slot or token), and tries again with exponential backoff. A refusal — wrong PIN, missing key, a
 * sealed root that does not open — is not retried: it needs an operator (and retrying a PIN can lock
 * the token). After `tessera operator seal` the node stays sealed until it restarts (as Vault does).
 */
import { TesseraError } from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { HsmError, zeroEscrowKeys, type Barrier } from "../seal/index.js";
import type { Door } from "./door.js";

export interface AutoUnsealOptions {
  /** First retry delay (default 1 s), doubled up to `maxDelayMs` (default 60 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  log: (level: "error" | "warn" | "info", message: string) => void;
}

export class AutoUnseal {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delay: number;
  private attempting: Promise<boolean> | undefined;

  constructor(
    private readonly door: Pick<Door, "system">,
    private readonly barrier: Barrier,
    private readonly o: AutoUnsealOptions,
  ) {
    this.delay = o.initialDelayMs ?? 1000;
  }

  /** Starts trying (no-op unless the seal unseals by itself and storage is initialised for it). */
  start(): void {
    this.stopped = false;
    void this.attempt();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One attempt now; true once unsealed. Schedules the next attempt after an unreachable HSM. */
  attempt(): Promise<boolean> {
    this.attempting ??= this.tryOnce().finally(() => (this.attempting = undefined));
    return this.attempting;
  }

  private async tryOnce(): Promise<boolean> {
    const b = this.barrier;
    if (!b.sealProvider.auto || !b.initialized || !b.sealed || b.migration !== undefined) return !b.sealed;
    try {
      const opened = await b.autoOpen();
      let adopting = false;
      try {
        await this.door.system("sys:AutoUnseal", null, () => ((adopting = true), b.adopt(opened)));
      } catch (err) {
        // adopt zeroes the roots itself when it fails; before it ran (no durable intent), they are ours to zero.
        if (!adopting) {
          for (const r of opened.roots) zero(r.key);
          zeroEscrowKeys(opened.escrowKey);
        }
        throw err;
      }
      this.delay = this.o.initialDelayMs ?? 1000;
      this.o.log("info", "unsealed with the HSM");
      return true;
    } catch (err) {
      const retry = err instanceof HsmError ? err.kind === "unreachable" : err instanceof TesseraError && err.retryable;
      const message = err instanceof Error ? err.message : String(err);
      if (!retry || this.stopped) {
        b.reportProblem(`cannot unseal with the HSM: ${message}`);
        this.o.log("error", `cannot unseal with the HSM, not retrying: ${message}`);
        return false;
      }
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, this.o.maxDelayMs ?? 60_000);
      b.reportProblem(`the HSM is unreachable, retrying in ${Math.round(wait / 1000)} s: ${message}`);
      this.o.log("warn", `the HSM is unreachable, retrying in ${wait} ms: ${message}`);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.attempt(), wait);
      this.timer.unref();
      return false;
    }
  }
}
