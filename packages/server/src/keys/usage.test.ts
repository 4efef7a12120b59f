/**
 * The use counters' bookkeeping around the store: every use is written once (a failed slice is
 * retried by the next flush, written slices are not written again), flushes run one after another,
 * and an entry outlives the flush that writes it until its version goes a whole interval unused.
 * The store here records what it is asked to write and can fail a slice; the integration tests
 * (native-api.test.ts) read real counts back through SQLite.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import type { Store } from "../store/index.js";
import { UsageRecorder } from "./usage.js";

/** A store that sums what flushes write per version and fails the transactions it is told to. */
function countingStore() {
  const written = new Map<string, { count: number; lastUsedAt: number }>();
  let failNext = 0;
  let transactions = 0;
  const store = {
    async transaction<T>(fn: (tx: any) => Promise<T>): Promise<T> {
      transactions++;
      const staged = new Map<string, { count: number; lastUsedAt: number }>();
      const tx = {
        versions: {
          async recordUse(keyId: string, version: number, count: number, lastUsedAt: number) {
            staged.set(`${keyId}/${version}`, { count, lastUsedAt });
          },
          async foldUses() {
            return undefined;
          },
        },
      };
      await new Promise((r) => setImmediate(r));
      const result = await fn(tx);
      if (failNext > 0) {
        failNext--;
        throw new Error("disk full");
      }
      for (const [id, w] of staged) {
        const had = written.get(id);
        written.set(id, { count: (had?.count ?? 0) + w.count, lastUsedAt: Math.max(had?.lastUsedAt ?? 0, w.lastUsedAt) });
      }
      return result;
    },
  };
  return {
    store: store as unknown as Pick<Store, "transaction">,
    written,
    failNextTransactions: (n: number) => (failNext = n),
    transactions: () => transactions,
  };
}

const keyId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;

describe("UsageRecorder", () => {
  it("writes every use once across failed slices, retries, and uses made while a flush runs", async () => {
    const clock = new ManualClock(1_000_000);
    const s = countingStore();
    const usage = new UsageRecorder(s.store, clock);
    // 1,200 versions: three slices of up to 500.
    for (let i = 0; i < 1200; i++) usage.record(keyId(i), 1);
    usage.record(keyId(7), 1);
    s.failNextTransactions(1);
    const first = usage.flush();
    // Uses arriving while the flush runs are counted for the next one.
    usage.record(keyId(7), 1);
    await expect(first).rejects.toThrow("disk full");
    // The first slice failed: nothing written; everything is pending again (plus the use made meanwhile).
    expect(s.written.size).toBe(0);
    expect(usage.unflushed(keyId(7), 1)?.count).toBe(3);
    await usage.flush();
    expect(s.written.size).toBe(1200);
    expect(s.written.get(`${keyId(7)}/1`)?.count).toBe(3);
    expect(s.written.get(`${keyId(8)}/1`)?.count).toBe(1);
    expect(usage.unflushed(keyId(7), 1)).toBeUndefined();

    // A later slice failing keeps the earlier slices written and puts back only its own and later ones.
    for (let i = 0; i < 1200; i++) usage.record(keyId(i), 1);
    s.failNextTransactions(0);
    const before = s.transactions();
    let calls = 0;
    const realTransaction = s.store.transaction.bind(s.store);
    (s.store as any).transaction = (fn: any) => (++calls === 2 ? Promise.reject(new Error("busy")) : realTransaction(fn));
    await expect(usage.flush()).rejects.toThrow("busy");
    expect(s.transactions() - before).toBe(1);
    // The first slice (versions 0–499, key 7 among them) is written; 500–1199 wait for the next flush.
    const counts = () => Array.from({ length: 1200 }, (_, i) => s.written.get(`${keyId(i)}/1`)!.count);
    expect(counts()).toEqual(Array.from({ length: 1200 }, (_, i) => (i === 7 ? 4 : i < 500 ? 2 : 1)));
    (s.store as any).transaction = realTransaction;
    await usage.flush();
    expect(counts()).toEqual(Array.from({ length: 1200 }, (_, i) => (i === 7 ? 4 : 2)));
  });

  it("runs flushes one after another: a shutdown flush during a scheduled one neither loses nor repeats counts", async () => {
    const clock = new ManualClock(1_000_000);
    const s = countingStore();
    const usage = new UsageRecorder(s.store, clock);
    for (let i = 0; i < 900; i++) usage.record(keyId(i), 2);
    const scheduled = usage.flush();
    // While it writes, readers still see every use (the flush's own and the new one).
    usage.record(keyId(1), 2);
    expect(usage.unflushed(keyId(1), 2)?.count).toBe(2);
    expect(usage.unflushed(keyId(899), 2)?.count).toBe(1);
    const shutdown = usage.flush();
    await Promise.all([scheduled, shutdown]);
    expect(s.written.size).toBe(900);
    expect(s.written.get(`${keyId(1)}/2`)?.count).toBe(2);
    expect([...s.written.values()].reduce((n, w) => n + w.count, 0)).toBe(901);
    expect(usage.unflushed(keyId(1), 2)).toBeUndefined();
  });

  it("keeps an entry across the flush that writes it, and drops it after a whole interval unused", async () => {
    const clock = new ManualClock(1_000_000);
    const s = countingStore();
    const usage = new UsageRecorder(s.store, clock);
    usage.record(keyId(1), 1);
    usage.record(keyId(2), 1);
    await usage.flush();
    const pending = (usage as unknown as { pending: Map<string, unknown> }).pending;
    const entry = pending.get(`${keyId(1)}/1`);
    expect(pending.size).toBe(2);
    clock.advance(1000);
    usage.record(keyId(1), 1); // in steady use: the same entry counts again
    expect(pending.get(`${keyId(1)}/1`)).toBe(entry);
    await usage.flush(); // key 2 went a whole interval unused: dropped
    expect([...pending.keys()]).toEqual([`${keyId(1)}/1`]);
    expect(s.written.get(`${keyId(1)}/1`)).toEqual({ count: 2, lastUsedAt: 1_001_000 });
    await usage.flush();
    expect(pending.size).toBe(0);
    expect(s.written.get(`${keyId(1)}/1`)?.count).toBe(2);
  });

  it("counts through a key's slot without losing a use when the version changes or a flush drops the entry", async () => {
    const clock = new ManualClock(1_000_000);
    const s = countingStore();
    const usage = new UsageRecorder(s.store, clock);
    const pending = (usage as unknown as { pending: Map<string, unknown> }).pending;
    const slot = { usage: undefined as unknown };
    usage.record(keyId(1), 1, slot);
    usage.record(keyId(1), 1, slot);
    expect(slot.usage).toBe(pending.get(`${keyId(1)}/1`));
    // Another version (a rotation) replaces what the slot holds; the first version's counts stay.
    usage.record(keyId(1), 2, slot);
    expect(slot.usage).toBe(pending.get(`${keyId(1)}/2`));
    // A slot handed another key's entry (never done, but cheap to refuse) does not count for it.
    usage.record(keyId(3), 2, slot);
    expect(usage.unflushed(keyId(3), 2)?.count).toBe(1);
    expect(usage.unflushed(keyId(1), 2)?.count).toBe(1);
    await usage.flush();
    // Unused for a whole interval: the entry is dropped although the slot still holds it ...
    await usage.flush();
    expect(pending.size).toBe(0);
    // ... and the next use through that slot is counted in a new entry that the next flush writes.
    usage.record(keyId(3), 2, slot);
    expect(pending.size).toBe(1);
    await usage.flush();
    expect(s.written.get(`${keyId(1)}/1`)?.count).toBe(2);
    expect(s.written.get(`${keyId(1)}/2`)?.count).toBe(1);
    expect(s.written.get(`${keyId(3)}/2`)?.count).toBe(2);
  });
});
