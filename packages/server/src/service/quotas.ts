/**
 * Fair share: per-principal request quotas (docs/operations.md, "Quotas"). Each authenticated
 * principal draws one token per request from its own bucket; the bucket's size and refill rate come
 * from its role's quota, else the default. An empty bucket refuses the request with `Throttled`
 * (native 429 with Retry-After, AWS `ThrottlingException`, Vault 429) before any work is done, and
 * the refusal is audited through the refusal log — counted into summary records under a flood, so a
 * runaway VM can fill neither the server nor the audit disk.
 *
 * A refusal is answered late (`refusalDelayMs`, default 1 s): a refusal costs the server little, so a
 * client that retries at once without honouring Retry-After would otherwise send many times more
 * requests throttled than it could unthrottled (measured by bench/quota-flood.mjs) and take the event
 * loop from everyone else. Held, each of its connections carries at most one request per delay. At
 * most `maxHeld` refusals wait at once; beyond that they are answered at once (a timer per held
 * answer, nothing else: no work is done for a refused request).
 *
 * Invariants: no quota configured = no limit (and no cost: the door skips the gate); the server's
 * own scheduled work never passes the gate (door.system); memory is bounded (`maxPrincipals` buckets, idle full ones forgotten first).
 */
import { TesseraError } from "@tessera/protocol";
import type { Clock } from "../clock.js";
import type { Principal } from "../principal/index.js";

export interface Quota {
  /** Requests a principal may make at once. */
  burst: number;
  /** Requests per second it earns back. */
  perSecond: number;
}

export interface QuotaOptions {
  /** For every principal whose role has no quota of its own. */
  default?: Quota;
  roles?: Record<string, Quota>;
  maxPrincipals?: number;
  /** How long a refusal is held before it is answered (0: at once). Default 1,000 ms. */
  refusalDelayMs?: number;
  /** Most refusals held at once (default 1,024); more are answered at once. */
  maxHeld?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  quota: Quota;
}

export class QuotaGate {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxPrincipals: number;
  /** Whether any quota applies at all (else the door does not call `take`): fixed at construction. */
  readonly active: boolean;
  private held = 0;

  constructor(
    private readonly o: QuotaOptions,
    private readonly clock: Clock,
  ) {
    this.maxPrincipals = o.maxPrincipals ?? 100_000;
    this.active = o.default !== undefined || Object.keys(o.roles ?? {}).length > 0;
  }

  /** Takes one request from the principal's bucket; throws `Throttled` when it is empty. */
  take(p: Pick<Principal, "id" | "role">): void {
    const quota = (p.role !== null ? this.o.roles?.[p.role] : undefined) ?? this.o.default;
    if (quota === undefined) return;
    const now = this.clock.now();
    let b = this.buckets.get(p.id);
    if (b === undefined) {
      if (this.buckets.size >= this.maxPrincipals) this.forgetOne();
      b = { tokens: quota.burst, at: now, quota };
      this.buckets.set(p.id, b);
    } else {
      b.tokens = Math.min(quota.burst, b.tokens + ((now - b.at) / 1000) * quota.perSecond);
      b.at = now;
      b.quota = quota;
    }
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / quota.perSecond));
      throw new TesseraError("Throttled", `${p.role !== null ? `role ${p.role}'s` : "the default"} quota of ${quota.perSecond} requests/s (burst ${quota.burst}) is used up; retry in ${wait} s`);
    }
    b.tokens -= 1;
  }

  /**
   * Waits before a refusal is answered, when fewer than `maxHeld` already wait (else at once). Uses
   * an unref'd timer: a held refusal never keeps the process alive.
   */
  hold(): Promise<void> | undefined {
    const delay = this.o.refusalDelayMs ?? 1000;
    if (delay <= 0 || this.held >= (this.o.maxHeld ?? 1024)) return undefined;
    this.held += 1;
    return new Promise<void>((resolve) => {
      setTimeout(() => {
        this.held -= 1;
        resolve();
      }, delay).unref();
    });
  }

  /** Drops the oldest bucket (Map order: least recently created), preferring one that has refilled. */
  private forgetOne(): void {
    const now = this.clock.now();
    for (const [id, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * b.quota.perSecond >= b.quota.burst) {
        this.buckets.delete(id);
        return;
      }
    }
    const first = this.buckets.keys().next();
    if (first.done !== true) this.buckets.delete(first.value);
  }
}
