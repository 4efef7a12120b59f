import { describe, expect, it } from "vitest";
import { equalBytes, sha256, zero } from "./secrets.js";

describe("secrets helpers", () => {
  it("zero overwrites every buffer given and skips null/undefined", () => {
    const a = Buffer.from([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    zero(a, undefined, b, null);
    expect([...a, ...b]).toEqual([0, 0, 0, 0, 0]);
  });

  it("equalBytes compares contents, and unequal lengths are simply unequal", () => {
    expect(equalBytes(Buffer.from("abc"), Buffer.from("abc"))).toBe(true);
    expect(equalBytes(Buffer.from("abc"), Buffer.from("abd"))).toBe(false);
    expect(equalBytes(Buffer.from("abc"), Buffer.from("abcd"))).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it("sha256 matches the FIPS 180-2 'abc' vector", () => {
    expect(sha256("abc").toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256(Buffer.from("abc")).toString("hex")).toBe(sha256("abc").toString("hex"));
  });
});
