/**
 * Keeping the identity alive: enrol once, then log in for a token and renew the certificate well
 * before either expires, retrying with capped exponential backoff while the server is down, sealed
 * or unreachable. The identity is never dropped because of a failure: only `--re-enrol` does that.
 */
import { isTesseraError } from "@tessera/protocol/core";
import type { AgentClock } from "./clock.js";
import type { AgentIdentity } from "./identity.js";
import { describeError, type AgentLog } from "./log.js";
import type { StatusFile } from "./status.js";

/**
 * When to renew something received at `receivedAt` that lives `lifetimeMs`: between 57 % and 67 % of
 * its life (2/3 minus up to a tenth as jitter), so a fleet enrolled together does not renew together
 * and a renewal has a third of the lifetime to succeed.
 */
export function renewalTime(receivedAt: number, lifetimeMs: number, random: number = Math.random()): number {
  return receivedAt + Math.floor(lifetimeMs * (2 / 3 - random / 10));
}

/** The wait before retry number `attempt` (0-based): exponential, capped at `maxMs`, the upper half jittered. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: number = Math.random()): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}

export interface RenewalOptions {
  retryInitialMs: number;
  retryMaxMs: number;
  /** Called after a new token is held (templates waiting for one render then). */
  onToken?: () => void;
}

export class Renewal {
  readonly #identity: AgentIdentity;
  readonly #clock: AgentClock;
  readonly #log: AgentLog;
  readonly #status: StatusFile;
  readonly #options: RenewalOptions;
  #certRenewAt: number | undefined;
  #tokenRenewAt: number | undefined;
  #wake = new AbortController();
  /** Set by {@link refreshToken}: a wake-up that arrived while a step ran is not lost. */
  #pending = false;
  #tokenWaiters: Array<() => void> = [];

  constructor(identity: AgentIdentity, clock: AgentClock, log: AgentLog, status: StatusFile, options: RenewalOptions) {
    this.#identity = identity;
    this.#clock = clock;
    this.#log = log;
    this.#status = status;
    this.#options = options;
  }

  /** The server refused the token: log in again now. Resolves when a new token is held (or `timeoutMs` passes). */
  async refreshToken(timeoutMs: number): Promise<void> {
    this.#identity.dropToken();
    const held = new Promise<void>((resolve) => this.#tokenWaiters.push(resolve));
    this.#pending = true;
    this.#wake.abort();
    const timeout = new AbortController();
    await Promise.race([held, this.#clock.sleep(timeoutMs, timeout.signal)]);
    timeout.abort();
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      let waitMs: number;
      this.#pending = false;
      try {
        await this.#step();
        attempt = 0;
        const next = Math.min(this.#certRenewAt ?? Infinity, this.#tokenRenewAt ?? Infinity);
        waitMs = next === Infinity ? this.#options.retryMaxMs : next - this.#clock.now();
        // The token was refused while this step ran: log in again now (a failure backs off as usual).
        if (this.#pending && this.#identity.token === undefined) waitMs = 0;
      } catch (err) {
        const e = describeError(err);
        waitMs = backoffDelay(attempt++, this.#options.retryInitialMs, this.#options.retryMaxMs);
        const hint = isTesseraError(err) && err.code === "Unauthenticated" && this.#identity.current !== undefined
          ? " (the certificate may have expired or been revoked: re-enrol with `tessera agent run --re-enrol` and a new join token)"
          : "";
        this.#log("warn", "identity step failed; will retry", { ...e, retryInMs: waitMs, attempt });
        await this.#status.update({ lastError: { at: new Date(this.#clock.now()).toISOString(), code: e.code, message: e.message + hint } }, this.#clock.now());
      }
      if (signal.aborted) break;
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      await this.#clock.sleep(Math.max(0, waitMs), AbortSignal.any([signal, this.#wake.signal]));
    }
  }

  async #step(): Promise<void> {
    const now = this.#clock.now();
    let changed = false;
    if (this.#identity.current === undefined) {
      await this.#identity.enrol();
      this.#scheduleCertificate();
      this.#scheduleToken();
      changed = true;
    }
    if (this.#certRenewAt === undefined) this.#scheduleCertificate();
    if (this.#certRenewAt !== undefined && this.#certRenewAt <= now) {
      await this.#identity.renewCertificate();
      this.#scheduleCertificate();
      this.#identity.dropToken(); // a token from the new certificate follows at once
      changed = true;
    }
    if (this.#identity.token === undefined || (this.#tokenRenewAt !== undefined && this.#tokenRenewAt <= now)) {
      await this.#identity.login();
      this.#scheduleToken();
      changed = true;
    }
    if (this.#identity.token !== undefined) for (const w of this.#tokenWaiters.splice(0)) w();
    if (changed) {
      await this.#report();
      this.#options.onToken?.();
    }
  }

  #scheduleCertificate(): void {
    const id = this.#identity.current;
    const lifetime = this.#identity.certificateLifetimeMs();
    this.#certRenewAt = id === undefined || lifetime === undefined ? undefined : renewalTime(id.receivedAt, lifetime);
  }

  #scheduleToken(): void {
    const t = this.#identity.tokenTiming;
    this.#tokenRenewAt = t === undefined || t.lifetimeMs === null ? undefined : renewalTime(t.receivedAt, t.lifetimeMs);
  }

  async #report(): Promise<void> {
    const id = this.#identity.current!;
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    await this.#status.update(
      {
        identity: { vmId: id.vmId, role: id.role, serial: id.serial, keyProtection: this.#identity.keyProtection },
        certificate: { expiresAt: id.expiresAt, renewAt: iso(this.#certRenewAt)! },
        token: { expiresAt: this.#identity.tokenExpiresAt, renewAt: iso(this.#tokenRenewAt) },
        lastSuccess: new Date(this.#clock.now()).toISOString(),
      },
      this.#clock.now(),
    );
  }
}
