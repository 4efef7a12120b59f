/**
 * The one order in which quorum events (rekey and generate-root starts, shares, cancels) are applied.
 * In a single process that is the order of arrival; with several workers (workers/README.md) the
 * primary relays every quorum event to every worker, the sender included, in the order it received
 * them, and each worker applies them one at a time in that order.
 *
 * Invariants:
 * - Every process applies the same events in the same order to the same state, so each holds the
 *   same attempt (nonce, parameters, shares in order) and reaches the same outcome with each share:
 *   progress, `InvalidUnsealKey` reset, or the threshold.
 * - `apply` runs in that order in the process whose request caused the event; its result is the
 *   answer. The threshold-th share therefore completes exactly once: where it was submitted. Every
 *   other process only drops the attempt.
 * - An event is applied to completion before the next one starts.
 */

export type QuorumOp = "rekey" | "generate-root";

interface Share<O extends QuorumOp> {
  op: O;
  step: "share";
  nonce: string;
  /** An unseal (or recovery) share: crosses the workers' IPC channel as unseal shares do; never logged. */
  share: string;
}

interface Cancel<O extends QuorumOp> {
  op: O;
  step: "cancel";
}

export type RekeyEvent =
  | { op: "rekey"; step: "start"; nonce: string; required: number; shares: number; threshold: number }
  | Share<"rekey">
  | Cancel<"rekey">;

export type GenerateRootEvent =
  /** `otp`: the starter's one-time pad (base64), held by every worker: any of them may complete. */
  | { op: "generate-root"; step: "start"; nonce: string; required: number; otp: string }
  | Share<"generate-root">
  | Cancel<"generate-root">;

/** From the primary when a worker joins after quorum events: no worker keeps an attempt the newcomer lacks. */
export interface AbandonEvent {
  op: "all";
  step: "abandon";
  reason: string;
}

export type QuorumEvent = RekeyEvent | GenerateRootEvent | AbandonEvent;

export interface QuorumSequencer {
  /** Runs `apply` at `event`'s place in the order; resolves (or rejects) with its outcome once every process applied the event. */
  sequence<T>(event: QuorumEvent, apply: () => Promise<T>): Promise<T>;
}

/** One process: events apply one at a time, in the order they arrive. */
export class LocalSequencer implements QuorumSequencer {
  private tail: Promise<unknown> = Promise.resolve();

  sequence<T>(_event: QuorumEvent, apply: () => Promise<T>): Promise<T> {
    const run = this.tail.then(apply);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
