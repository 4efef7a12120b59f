import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { randomnessProblems } from "./randomness.js";

const draws = (n: number, make: (i: number) => Uint8Array) => Array.from({ length: n }, (_, i) => make(i));

describe("randomnessProblems", () => {
  it("passes the OS CSPRNG, for few and for many samples", () => {
    expect(randomnessProblems(draws(2, () => randomBytes(16)))).toEqual([]);
    expect(randomnessProblems(draws(200, () => randomBytes(48)))).toEqual([]);
  });

  it("catches zeros, repeats, a counter and a constant prefix, each of the right length", () => {
    expect(randomnessProblems(draws(2, () => new Uint8Array(16)))).toEqual(["1 repeated sample(s)", "0 of 256 bits set"]);
    const same = randomBytes(32);
    expect(randomnessProblems(draws(100, () => same))).toContain("99 repeated sample(s)");
    const counter = randomnessProblems(draws(200, (i) => Buffer.concat([Buffer.alloc(14), Buffer.from([i >> 8, i & 0xff])])));
    expect(counter).toContain("bit 0 is set in 0 of 200 samples");
    expect(counter.some((p) => p.endsWith("bits set"))).toBe(true);
    const prefixed = randomnessProblems(draws(200, () => Buffer.concat([Buffer.from([0xa5]), randomBytes(15)])));
    expect(prefixed).toEqual([0, 2, 5, 7].map((b) => `bit ${b} is set in 200 of 200 samples`).concat([1, 3, 4, 6].map((b) => `bit ${b} is set in 0 of 200 samples`)).sort((a, b) => Number(a.split(" ")[1]) - Number(b.split(" ")[1])));
  });

  it("refuses to judge fewer than two samples or samples of different lengths", () => {
    expect(randomnessProblems([randomBytes(8)])).toEqual(["need at least two samples"]);
    expect(randomnessProblems([randomBytes(8), randomBytes(9)])).toEqual(["samples differ in length"]);
  });
});
