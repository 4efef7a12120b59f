/**
 * Per-version use counters. Counting happens in memory on the hot path; a flush appends the pending
 * counts to the store's use log (periodically, and on shutdown). A crash loses at most one flush
 * interval of counts — usage is operator information, never a security decision (retention reads
 * last use, and sees every flushed one: the store reports a version's counts plus its log rows).
 *
 * A fold moves the log into the versions' own counters, in key order and summing every interval's
 * rows of a version into one update: every {@link FOLD_INTERVAL_MS}, once this process has appended
 * {@link FOLD_AFTER_ROWS} rows, and on shutdown. Flushing as appended rows writes sequential pages of
 * a narrow table; updating each used version's wide row (it holds sealed material) every few seconds
 * dirtied one page per version (docs/performance.md, "Scale of state").
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
  /** Log rows this process appended since its last fold, and when that fold ended. */
  private logged = 0;
  private lastFold: number;

  constructor(
    private readonly store: Pick<Store, "transaction">,
    private readonly clock: Clock,
  ) {
    this.lastFold = clock.now();
  }

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
   * Appends the pending counts to the use log in transactions of {@link FLUSH_SLICE} versions with other
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
      this.logged += slice.length;
    }
    if (this.logged >= FOLD_AFTER_ROWS || this.clock.now() - this.lastFold >= FOLD_INTERVAL_MS) await this.fold();
  }

  /**
   * Folds the whole use log (every process's rows) into the versions' counters, {@link FLUSH_SLICE}
   * versions a transaction with other work between them. Each slice sums and deletes its rows in
   * one transaction, so readers see the same counts before, during and after; a crash or a failed
   * slice leaves the rest in the log for the next fold.
   */
  async fold(): Promise<void> {
    let after = { keyId: "", version: 0 };
    for (;;) {
      const done = await this.store.transaction((tx) => tx.versions.foldUses(after.keyId, after.version, FLUSH_SLICE));
      if (done === undefined || done.folded < FLUSH_SLICE) break;
      after = done;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.logged = 0;
    this.lastFold = this.clock.now();
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

/** How often the use log is folded into the versions' counters at the latest. */
const FOLD_INTERVAL_MS = 10 * 60_000;

/** Log rows one process appends before it folds early: keeps the log (and what a read adds up) small. */
const FOLD_AFTER_ROWS = 100_000;
