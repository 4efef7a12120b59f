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

  /**
   * Adds the pending counts to storage in transactions of {@link FLUSH_SLICE} versions with other
   * work between them: a working set of many keys must not hold the store (and every request
   * waiting for it) in one long transaction every few seconds. Counts are telemetry, so a slice that
   * fails puts back only its own and later slices' counts; earlier slices stay written.
   */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const entries = [...this.pending];
    this.pending = new Map();
    for (let from = 0; from < entries.length; from += FLUSH_SLICE) {
      const slice = entries.slice(from, from + FLUSH_SLICE);
      try {
        if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        await this.store.transaction(async (tx) => {
          for (const [, p] of slice) await tx.versions.recordUse(p.keyId, p.version, p.count, p.lastUsedAt);
        });
      } catch (err) {
        this.putBack(entries.slice(from));
        throw err;
      }
    }
  }

  /** Puts counts that were not written back into the pending ones, so the next flush retries them. */
  private putBack(batch: Iterable<[string, Pending]>): void {
    for (const [id, p] of batch) {
      const now = this.pending.get(id);
      if (now === undefined) this.pending.set(id, p);
      else {
        now.count += p.count;
        now.lastUsedAt = Math.max(now.lastUsedAt, p.lastUsedAt);
      }
    }
  }
}

/** Versions whose counts one flush transaction writes. */
const FLUSH_SLICE = 500;
