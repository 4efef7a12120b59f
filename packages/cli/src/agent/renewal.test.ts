import { describe, expect, it } from "vitest";
import { backoffDelay, renewalTime } from "./renewal.js";

describe("renewal timing", () => {
  it("renews between 57 % and 67 % of the lifetime, counted from when it arrived", () => {
    expect(renewalTime(1000, 300_000, 0)).toBe(1000 + 200_000);
    expect(renewalTime(1000, 300_000, 1)).toBe(1000 + 170_000);
  });

  it("backs off exponentially up to the cap, jittering the upper half", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 60_000, 1))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect([0, 1, 10].map((a) => backoffDelay(a, 1000, 60_000, 0))).toEqual([500, 1000, 30_000]);
    expect(backoffDelay(1000, 1000, 60_000, 1)).toBe(60_000);
  });
});
