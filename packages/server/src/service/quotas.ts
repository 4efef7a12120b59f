/**
 * Fair share: per-principal request quotas (docs/operations.md, "Quotas"). Each authenticated
 * principal draws one token per request from its own bucket; the bucket's size and refill rate come
 * from its role's quota, else the default. An empty bucket refuses the request with `Throttled`
 * (native 429 with Retry-After, AWS `ThrottlingException`, Vault 429) before any work is done, and
 * the refusal is audited through the refusal log — counted into summary records under a flood, so a
 * runaway VM can fill neither the server nor the audit disk.
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
