/**
 * Audit records for requests refused at an adapter's edge (no route, bad URL, malformed body, failed
 * signature …) or by the door before anyone was authenticated (no or bad token, wrong credential at a
 * login, sealed), throttled so that a flood of them cannot fill the audit disk. Records written on
 * their own keep the request's action; summaries are `api:Rejected`.
 *
 * Invariants:
 * - Every refused request is either recorded on its own (`api:Rejected`, answered only once durable,
 *   fail closed) or counted towards a summary record; nothing is dropped uncounted.
 * - A source gets its own records while its token bucket (and the global one) has tokens; after that
 *   its refusals are counted per (source, error code) and written as one summary record
 *   (`api:Rejected`, `detail.suppressed` = the count, `detail.since` = the first one's time) on the
 *   next `flush()` — every summary interval and at shutdown. A summary is a record in the chain like
 *   any other, so it is audited itself.
 * - Memory is bounded: buckets are kept for `maxSources` sources (least recently refused forgotten
 *   first; the global bucket still limits a flood from ever-new sources), and at most `maxSummaries`
 *   (source, code) counters are kept per interval — later sources are counted under source `*`.
 * - A summary that cannot be written keeps its count for the next flush.
 * What is lost: counts not yet flushed when the process dies (at most one interval's worth).
 */
import { randomUUID } from "node:crypto";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import { iso, type Clock } from "../clock.js";
import type { AuditDetail, AuditEntry, AuditRecorder, Outcome } from "../audit/auditor.js";
import type { CallContext } from "../identity/authenticator.js";
import type { Principal } from "../principal/index.js";

export interface Bucket {
  /** Records a source may write at once. */
  burst: number;
  /** Records per second it earns back. */
  perSecond: number;
}

export interface RefusalLogOptions {
  perSource?: Bucket;
  global?: Bucket;
  maxSources?: number;
  maxSummaries?: number;
}

/** What an adapter knows about a request it refused. */
export interface Refusal {
  /** Who it was, when authentication succeeded before the refusal (AWS API). */
  principal?: Pick<Principal, "id" | "kind" | "displayName" | "role" | "authMethod">;
  detail?: AuditDetail;
}

export const REFUSAL_DEFAULTS: Required<RefusalLogOptions> = Object.freeze({
  perSource: Object.freeze({ burst: 20, perSecond: 1 }),
  global: Object.freeze({ burst: 200, perSecond: 20 }),
  maxSources: 10_000,
  maxSummaries: 64,
});

/** Source under which refusals are counted once `maxSummaries` sources are pending. */
export const OTHER_SOURCES = "*";

class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly b: Bucket,
    now: number,
  ) {
    this.tokens = b.burst;
    this.at = now;
  }

  has(now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(this.b.burst, this.tokens + ((now - this.at) / 1000) * this.b.perSecond);
      this.at = now;
    }
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

interface Pending {
  source: string;
  code: string;
  count: number;
  since: number;
}

const outcomeOf = (code: string): Outcome => (code === "AccessDenied" || code === "Unauthenticated" || code === "InvalidUnsealKey" ? "denied" : "error");

export class RefusalLog {
  private readonly o: Required<RefusalLogOptions>;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly changeBuckets = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  private pending = new Map<string, Pending>();

  constructor(
    private readonly auditor: AuditRecorder,
    private readonly clock: Clock,
    options: RefusalLogOptions = {},
  ) {
    this.o = { ...REFUSAL_DEFAULTS, ...options };
    this.global = new TokenBucket(this.o.global, clock.now());
  }

  /** Refused requests counted but not yet written in a summary. */
  get suppressed(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.count;
    return n;
  }

  /**
   * Records one refused request, or counts it for the next summary. Resolves once its record is
   * durable (or it is counted); a record that cannot be written is `Unavailable` (fail closed).
   */
  async record(ctx: CallContext, err: unknown, refusal: Refusal = {}, action: AuditEntry["action"] = "api:Rejected"): Promise<void> {
    const code = isTesseraError(err) ? err.code : "Internal";
    const now = this.clock.now();
    if (!this.admit(ctx.source, now)) {
      this.count(ctx.source, code, 1, now);
      return;
    }
    const entry: AuditEntry = {
      time: iso(now),
      requestId: ctx.requestId,
      principal: refusal.principal === undefined ? null : pick(refusal.principal),
      source: ctx.source,
      action,
      keyId: null,
      keyVersion: null,
      outcome: outcomeOf(code),
      errorCode: code,
      latencyMs: 0,
      ...(refusal.detail !== undefined && { detail: refusal.detail }),
    };
    try {
      await this.auditor.record(entry);
    } catch (cause) {
      throw new TesseraError("Unavailable", "the audit log could not be written; the request was not completed", { cause });
    }
  }

  /** Writes one summary record per pending (source, code); returns how many refusals they account for. */
  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const now = this.clock.now();
    const results = await Promise.allSettled(
      batch.map((p) =>
        this.auditor.record({
          time: iso(now),
          requestId: randomUUID(),
          principal: null,
          source: p.source,
          action: "api:Rejected",
          keyId: null,
          keyVersion: null,
          outcome: outcomeOf(p.code),
          errorCode: p.code,
          latencyMs: 0,
          detail: { suppressed: p.count, since: iso(p.since) },
        }),
      ),
    );
    let written = 0;
    let failure: unknown;
    results.forEach((r, i) => {
      const p = batch[i]!;
      if (r.status === "fulfilled") written += p.count;
      else {
        failure ??= r.reason;
        this.count(p.source, p.code, p.count, p.since);
      }
    });
    if (failure !== undefined) throw failure;
    return written;
  }

  /**
   * Takes one token of `source`'s budget for unauthenticated changes — a request that is about to
   * write records of its own (an unseal attempt: intent and outcome). False when it is spent: the
   * caller refuses the request, and the refusal is counted like any other. A budget of its own per
   * source, and no global one: refusals from elsewhere, or a flood from many addresses, cannot use
   * up the operators' attempts to unseal.
   */
  take(source: string): boolean {
    const now = this.clock.now();
    let bucket = this.changeBuckets.get(source);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.o.perSource, now);
      if (this.changeBuckets.size >= this.o.maxSources) this.changeBuckets.delete(this.changeBuckets.keys().next().value!);
    } else this.changeBuckets.delete(source);
    this.changeBuckets.set(source, bucket);
    if (!bucket.has(now)) return false;
    bucket.take();
    return true;
  }

  private admit(source: string, now: number): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.o.perSource, now);
      if (this.buckets.size >= this.o.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      this.buckets.delete(source);
    }
    // Most recently refused last, so the first key is the one to forget.
    this.buckets.set(source, bucket);
    if (!bucket.has(now) || !this.global.has(now)) return false;
    bucket.take();
    this.global.take();
    return true;
  }

  private count(source: string, code: string, n: number, since: number): void {
    let key = `${source}\u0000${code}`;
    if (!this.pending.has(key) && this.pending.size >= this.o.maxSummaries) {
      source = OTHER_SOURCES;
      key = `${source}\u0000${code}`;
    }
    const p = this.pending.get(key);
    if (p === undefined) this.pending.set(key, { source, code, count: n, since });
    else {
      p.count += n;
      p.since = Math.min(p.since, since);
    }
  }
}

const pick = (p: NonNullable<Refusal["principal"]>): NonNullable<AuditEntry["principal"]> => ({
  id: p.id,
  kind: p.kind,
  displayName: p.displayName,
  role: p.role,
  authMethod: p.authMethod,
});
