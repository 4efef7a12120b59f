import { describe, expect, it } from "vitest";
import { Activity, KEYS_PER_SLOT } from "./activity.js";

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const rec = (ms: number, outcome: "allowed" | "denied" | "error" | "intent", keyId: string | null = null) => ({ time: new Date(T0 + ms).toISOString(), outcome, keyId });

describe("Activity", () => {
  it("counts answered requests per minute by outcome and ignores intents", () => {
    const a = new Activity();
    a.observe([rec(1_000, "allowed", "k1"), rec(2_000, "denied", "k1"), rec(3_000, "intent", "k1"), rec(61_000, "error"), rec(62_000, "allowed", "k2")]);
    const w = a.window(T0 + 90_000, "hour");
    expect([w.buckets.length, w.bucketSeconds, w.buckets.at(-2), w.buckets.at(-1), w.to]).toEqual([
      60,
      60,
      { start: new Date(T0).toISOString(), allowed: 1, denied: 1, error: 0 },
      { start: new Date(T0 + 60_000).toISOString(), allowed: 1, denied: 0, error: 1 },
      new Date(T0 + 120_000).toISOString(),
    ]);
  });

  it("ranks keys by allowed requests in the window only", () => {
    const a = new Activity();
    a.observe([rec(-2 * 3_600_000, "allowed", "old"), rec(0, "allowed", "k1"), rec(1, "allowed", "k2"), rec(2, "allowed", "k2"), rec(3, "denied", "k1")]);
    expect(a.window(T0 + 60_000, "hour").topKeys).toEqual([
      { keyId: "k2", count: 2 },
      { keyId: "k1", count: 1 },
    ]);
    expect(a.window(T0 + 60_000, "day").topKeys.map((k) => k.keyId)).toEqual(["k2", "k1", "old"]);
  });

  it("sums a day into 96 quarter-hour buckets, and forgets what is older than a day", () => {
    const a = new Activity();
    a.observe([rec(-25 * 3_600_000, "allowed"), rec(0, "allowed"), rec(14 * 60_000, "allowed")]);
    const w = a.window(T0 + 14 * 60_000, "day");
    expect([w.buckets.length, w.bucketSeconds, w.buckets.reduce((s, b) => s + b.allowed, 0)]).toEqual([96, 900, 2]);
  });

  it("keeps at most KEYS_PER_SLOT keys per five-minute slot", () => {
    const a = new Activity();
    a.observe(Array.from({ length: KEYS_PER_SLOT + 5 }, (_, i) => rec(0, "allowed", `k${i}`)));
    expect(a.window(T0, "hour", KEYS_PER_SLOT + 10).topKeys.length).toBe(KEYS_PER_SLOT);
  });
});
