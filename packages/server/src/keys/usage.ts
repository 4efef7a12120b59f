/**
 * Per-version use counters. Counting happens in memory on the hot path; a flush adds the pending
 * counts to the store's narrow table of unfolded counts, one row per version (periodically, and on
 * shutdown). A crash loses at most one flush interval of counts — usage is operator information,
 * never a security decision. Readers see every flushed use: the store reports a version's folded
 * counters plus its unfolded row.
 *
 * A fold moves the unfolded counts into the versions' own counters, in key order, every
 * {@link FOLD_INTERVAL_MS} and on shutdown: one update of a version's wide row (it holds sealed
 * material) per fold instead of one per flush interval it was used in. A flush writes, in key order,
 * the pages of a table of ~50-byte rows; updating each used version's wide row every few seconds
 * dirtied one page per version (docs/performance.md, "Scale of state").
 */
import type { Clock } from "../clock.js";
import type { Store } from "../store/index.js";

interface Pending {
  keyId: string;
  version: number;
  /** Set when a flush drops the entry: a holder that cached it (a {@link UsageSlot}) looks it up anew. */
  dropped: boolean;
  /** Uses since the last flush took this version's counts, and the newest. */
  count: number;
  lastUsedAt: number;
  /** What the flush under way is writing for this version (0 when none). */
  taken: number;
  takenAt: number;
}

/**
 * Where a caller keeps the entry of the version it last counted (the keyring's key handle, which every
 * use already holds), so a key in steady use is counted without a lookup: with 10,000 keys in use, the
 * map lookup by a fresh `key/version` string was a measurable share of a request (docs/performance.md,
 * "Scale of state").
 */
export interface UsageSlot {
  usage: unknown;
}

export class UsageRecorder {
  /**
   * One entry per version used in the last two flush intervals. An entry outlives the flush that
   * writes its counts (the flush resets them), so a version in steady use costs no allocation per
   * flush; one unused for a whole interval is dropped at the next. (Replacing the map at every
   * flush made each used version's entry anew every interval, and those entries lived long enough
   * to reach the old generation: with 10,000 keys in use, most of what a request path promoted.)
   */
  private readonly pending = new Map<string, Pending>();
  /** The flush under way; flushes run one after another (scheduler, shutdown). */
  private flushing: Promise<void> | undefined;
  /** When this process's last fold ended. */
  private lastFold: number;

  constructor(
    private readonly store: Pick<Store, "transaction">,
    private readonly clock: Clock,
  ) {
    this.lastFold = clock.now();
  }

  /** Counts one use; `slot` (the key's handle) keeps this version's entry for the next use. */
  record(keyId: string, version: number, slot?: UsageSlot): void {
    const now = this.clock.now();
    const cached = slot?.usage as Pending | undefined;
    let p = cached !== undefined && cached.version === version && cached.keyId === keyId && !cached.dropped ? cached : undefined;
    if (p === undefined) {
      const id = `${keyId}/${version}`;
      p = this.pending.get(id);
      if (p === undefined) {
        p = { keyId, version, dropped: false, count: 0, lastUsedAt: now, taken: 0, takenAt: 0 };
        this.pending.set(id, p);
      }
      if (slot !== undefined) slot.usage = p;
    }
    p.count++;
    p.lastUsedAt = now;
  }

  /**
   * Counts not yet in the store, to add to stored counts when reporting: those since the last flush
   * and those the flush under way is writing (reset the moment its transaction commits), so a reader
   * sees the same count before, during and after a flush.
   */
  unflushed(keyId: string, version: number): { count: number; lastUsedAt: number } | undefined {
    const p = this.pending.get(`${keyId}/${version}`);
    if (p === undefined || p.count + p.taken === 0) return undefined;
    return { count: p.count + p.taken, lastUsedAt: p.taken === 0 ? p.lastUsedAt : Math.max(p.lastUsedAt, p.takenAt) };
  }

  /**
   * Adds the pending counts to the unfolded counts in transactions of {@link FLUSH_SLICE} versions,
   * in key order (each slice then touches a few neighbouring pages), with other work between them: a working set of many keys must not hold the store (and every request
   * waiting for it) in one long transaction every few seconds. Counts are telemetry, so a slice that
   * fails puts back only its own and later slices' counts; earlier slices stay written.
   */
  flush(): Promise<void> {
    const run = (this.flushing ?? Promise.resolve()).catch(() => undefined).then(() => this.flushOnce());
    this.flushing = run;
    void run.then(
      () => this.flushing === run && (this.flushing = undefined),
      () => this.flushing === run && (this.flushing = undefined),
    );
    return run;
  }

  private async flushOnce(): Promise<void> {
    const taken: Pending[] = [];
    for (const [id, p] of this.pending) {
      if (p.count === 0) {
        this.pending.delete(id);
        p.dropped = true;
        continue;
      }
      p.taken = p.count;
      p.takenAt = p.lastUsedAt;
      p.count = 0;
      taken.push(p);
    }
    if (taken.length === 0) return;
    taken.sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.version - b.version));
    for (let from = 0; from < taken.length; from += FLUSH_SLICE) {
      const slice = taken.slice(from, from + FLUSH_SLICE);
      try {
        if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        await this.store.transaction(async (tx) => {
          for (const p of slice) await tx.versions.recordUse(p.keyId, p.version, p.taken, p.takenAt);
        });
      } catch (err) {
        this.putBack(taken.slice(from));
        throw err;
      }
      for (const p of slice) p.taken = 0;
    }
    if (this.clock.now() - this.lastFold >= FOLD_INTERVAL_MS) await this.fold();
  }

  /**
   * Folds every unfolded count (every process's) into the versions' counters, {@link FLUSH_SLICE}
   * versions a transaction in key order, with other work between them. Each slice adds and deletes
   * its rows in one transaction, so readers see the same counts before, during and after; a crash
   * or a failed slice leaves the rest unfolded, still counted, for the next fold.
   */
  async fold(): Promise<void> {
    let after = { keyId: "", version: 0 };
    for (;;) {
      const done = await this.store.transaction((tx) => tx.versions.foldUses(after.keyId, after.version, FLUSH_SLICE));
      if (done === undefined || done.folded < FLUSH_SLICE) break;
      after = done;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.lastFold = this.clock.now();
  }

  /** Puts counts that were not written back into the pending ones, so the next flush retries them. */
  private putBack(batch: readonly Pending[]): void {
    for (const p of batch) {
      p.count += p.taken;
      p.lastUsedAt = Math.max(p.lastUsedAt, p.takenAt);
      p.taken = 0;
    }
  }
}

/** Versions whose counts one flush transaction writes. */
const FLUSH_SLICE = 500;

/**
 * How often a process folds the unfolded counts into the versions' counters. The table holds at most
 * one ~50-byte row per version used since the last fold, and a read finds a version's row by its
 * primary key, so nothing but its size needs an earlier fold.
 */
const FOLD_INTERVAL_MS = 10 * 60_000;
