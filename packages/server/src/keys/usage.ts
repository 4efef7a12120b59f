/**
 * Per-version use counters. Counting happens in memory on the hot path; a flush adds the pending
 * counts to storage (periodically, and on shutdown). A crash loses at most one flush interval of
 * counts — usage is operator information, never a security decision.
 */
import type { Clock } from "../clock.js";
import type { Store } from "../store/index.js";

interface Pending {
  keyId: string;
  version: number;
  count: number;
  lastUsedAt: number;
}

export class UsageRecorder {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly store: Pick<Store, "transaction">,
    private readonly clock: Clock,
  ) {}

  record(keyId: string, version: number): void {
    const id = `${keyId}/${version}`;
    const now = this.clock.now();
    const p = this.pending.get(id);
    if (p === undefined) this.pending.set(id, { keyId, version, count: 1, lastUsedAt: now });
    else {
      p.count++;
      p.lastUsedAt = now;
    }
  }

  /** Counts not yet flushed, to add to stored counts when reporting. */
  unflushed(keyId: string, version: number): { count: number; lastUsedAt: number } | undefined {
    return this.pending.get(`${keyId}/${version}`);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.store.transaction(async (tx) => {
        for (const p of batch.values()) await tx.versions.recordUse(p.keyId, p.version, p.count, p.lastUsedAt);
      });
    } catch (err) {
      // Put the counts back so the next flush retries them.
      for (const [id, p] of batch) {
        const now = this.pending.get(id);
        if (now === undefined) this.pending.set(id, p);
        else {
          now.count += p.count;
          now.lastUsedAt = Math.max(now.lastUsedAt, p.lastUsedAt);
        }
      }
      throw err;
    }
  }
}
