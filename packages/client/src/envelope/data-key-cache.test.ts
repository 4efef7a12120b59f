/**
 * The cache's own rules, on its API. That encrypt/decrypt honour them against a real server (KMS
 * calls counted) is in test/integration/sdk-envelope.test.ts.
 */
import { describe, expect, it, vi } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { DataKeyCache, type CachedDataKey } from "./data-key-cache.js";

function key(byte: number): CachedDataKey {
  return { dataKey: Buffer.alloc(32, byte), wrappedDataKey: Buffer.from(`wrapped-${byte}`), keyId: "k" };
}

const ctx = { app: "a" };

describe("DataKeyCache", () => {
  it("serves an encryption entry for exactly maxMessages messages, the fetch counting as the first", () => {
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000, maxMessages: 3 });
    cache.putEncrypt("k", ctx, 10, key(1));
    expect(cache.takeForEncrypt("k", ctx, 10)?.dataKey).toEqual(Buffer.alloc(32, 1));
    expect(cache.takeForEncrypt("k", ctx, 10)?.dataKey).toEqual(Buffer.alloc(32, 1));
    expect(cache.takeForEncrypt("k", ctx, 10)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("serves an encryption entry while the bytes stay within maxBytes, and never a message larger than maxBytes", () => {
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000, maxBytes: 100 });
    cache.putEncrypt("k", ctx, 40, key(1));
    expect(cache.takeForEncrypt("k", ctx, 60)).toBeDefined(); // 100: exactly the limit
    expect(cache.takeForEncrypt("k", ctx, 1)).toBeUndefined();
    cache.putEncrypt("k", ctx, 101, key(2));
    expect(cache.size).toBe(0);
    cache.putEncrypt("k", ctx, 0, key(3));
    expect(cache.takeForEncrypt("k", ctx, 101)).toBeUndefined();
    expect(cache.takeForEncrypt("k", ctx, 100)?.dataKey).toEqual(Buffer.alloc(32, 3));
  });

  it("serves an entry only while younger than maxAgeMs", () => {
    let now = 1_000;
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 500, now: () => now });
    cache.putEncrypt("k", ctx, 1, key(1));
    now += 499;
    expect(cache.takeForEncrypt("k", ctx, 1)).toBeDefined();
    now += 1;
    expect(cache.takeForEncrypt("k", ctx, 1)).toBeUndefined();
  });

  it("keys encryption entries by key id and context, and keeps encryption and decryption entries apart", () => {
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000 });
    cache.putEncrypt("k", ctx, 1, key(1));
    expect(cache.takeForEncrypt("k", { app: "b" }, 1)).toBeUndefined();
    expect(cache.takeForEncrypt("other", ctx, 1)).toBeUndefined();
    expect(cache.takeForDecrypt(Buffer.from("wrapped-1"), ctx)).toBeUndefined();
    cache.putDecrypt(Buffer.from("wrapped-2"), ctx, key(2));
    expect(cache.takeForDecrypt(Buffer.from("wrapped-2"), { app: "b" })).toBeUndefined();
    expect(cache.takeForDecrypt(Buffer.from("wrapped-2"), ctx)?.dataKey).toEqual(Buffer.alloc(32, 2));
    expect(cache.takeForEncrypt("k", ctx, 1)?.dataKey).toEqual(Buffer.alloc(32, 1));
  });

  it("evicts the least recently used entry beyond capacity", () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    cache.putEncrypt("a", ctx, 1, key(1));
    cache.putEncrypt("b", ctx, 1, key(2));
    expect(cache.takeForEncrypt("a", ctx, 1)).toBeDefined(); // a is now the most recent
    cache.putEncrypt("c", ctx, 1, key(3));
    expect(cache.takeForEncrypt("b", ctx, 1)).toBeUndefined();
    expect(cache.takeForEncrypt("a", ctx, 1)).toBeDefined();
    expect(cache.takeForEncrypt("c", ctx, 1)).toBeDefined();
  });

  it("hands out copies, and zeroes its own copy on eviction, exhaustion, expiry, replacement and clear", () => {
    const held: Buffer[] = [];
    const from = Buffer.from.bind(Buffer);
    const spy = vi.spyOn(Buffer, "from").mockImplementation(((...args: Parameters<typeof Buffer.from>) => {
      const b = (from as (...a: unknown[]) => Buffer)(...args);
      if (b.length === 32) held.push(b);
      return b;
    }) as typeof Buffer.from);
    let now = 0;
    try {
      const cache = new DataKeyCache({ capacity: 1, maxAgeMs: 100, maxMessages: 2, now: () => now });
      cache.putEncrypt("a", ctx, 1, key(1));
      cache.putEncrypt("b", ctx, 1, key(2)); // evicts a (capacity)
      cache.putEncrypt("b", ctx, 1, key(3)); // replaces b
      const handed = cache.takeForEncrypt("b", ctx, 1)!; // exhausts b (2 messages)
      cache.putDecrypt(Buffer.from("w"), ctx, key(4));
      now = 100;
      expect(cache.takeForDecrypt(Buffer.from("w"), ctx)).toBeUndefined(); // expired
      cache.putDecrypt(Buffer.from("w"), ctx, key(5));
      cache.clear();
      expect(handed.dataKey).toEqual(Buffer.alloc(32, 3));
      const owned = held.filter((b) => b !== handed.dataKey);
      expect(owned.length).toBeGreaterThanOrEqual(5);
      expect(owned.every((b) => b.every((x) => x === 0))).toBe(true);
      expect(cache.size).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it.each([
    [{ capacity: 0, maxAgeMs: 1 }, "/capacity"],
    [{ capacity: 1, maxAgeMs: 0 }, "/maxAgeMs"],
    [{ capacity: 1, maxAgeMs: Infinity }, "/maxAgeMs"],
    [{ capacity: 1, maxAgeMs: 1, maxMessages: 2 ** 32 + 1 }, "/maxMessages"],
    [{ capacity: 1, maxAgeMs: 1, maxBytes: 0.5 }, "/maxBytes"],
  ])("refuses limits %j with InvalidInput naming %s", (options, field) => {
    let error: unknown;
    try {
      new DataKeyCache(options);
    } catch (err) {
      error = err;
    }
    expect(isTesseraError(error) && [error.code, error.field]).toEqual(["InvalidInput", field]);
  });
});
