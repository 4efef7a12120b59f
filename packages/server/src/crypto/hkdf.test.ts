import { describe, expect, it } from "vitest";
import { hkdfSha256 } from "./hkdf.js";

const ikm = Buffer.alloc(32, 7);
const empty = Buffer.alloc(0);

describe("hkdfSha256", () => {
  it("accepts output lengths 1 … 255·32 (RFC 5869 §2.3)", () => {
    expect(hkdfSha256(ikm, empty, empty, 1)).toHaveLength(1);
    expect(hkdfSha256(ikm, empty, empty, 255 * 32)).toHaveLength(8160);
  });

  it("rejects lengths outside 1 … 255·32 and non-integers", () => {
    for (const length of [0, -1, 255 * 32 + 1, 1.5, Number.NaN]) {
      expect(() => hkdfSha256(ikm, empty, empty, length)).toThrow(RangeError);
    }
  });

  it("gives independent outputs for different info strings", () => {
    const a = hkdfSha256(ikm, empty, Buffer.from("a"), 32);
    const b = hkdfSha256(ikm, empty, Buffer.from("b"), 32);
    expect(a.equals(b)).toBe(false);
  });

  it("treats an empty salt as HashLen zero bytes (RFC 5869 §2.2)", () => {
    expect(hkdfSha256(ikm, empty, empty, 32).equals(hkdfSha256(ikm, Buffer.alloc(32), empty, 32))).toBe(true);
  });

  it("returns a Buffer the caller may zero without affecting later calls", () => {
    const first = hkdfSha256(ikm, empty, empty, 32);
    const copy = Buffer.from(first);
    first.fill(0);
    expect(hkdfSha256(ikm, empty, empty, 32).equals(copy)).toBe(true);
  });
});
