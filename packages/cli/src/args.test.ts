import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { collect, collectPair, formatDuration, integer, parseDuration, parsePair, parseRotationPeriod } from "./args.js";

describe("parseDuration", () => {
  it.each([
    ["3600", 3600],
    ["3600s", 3600],
    ["30m", 1800],
    ["12h", 43_200],
    ["90d", 7_776_000],
    ["1h30m", 5400],
    ["1d12h", 129_600],
    [" 45m ", 2700],
    ["0", 0],
  ])("reads %j as %d seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "h", "-5m", "1.5h", "10y", "5 m", "1h 30m", "d90", "99999999999999999999d"])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
  });
});

describe("formatDuration", () => {
  it.each([
    [7_776_000, "90d"],
    [5400, "1h30m"],
    [3600, "1h"],
    [59, "59s"],
    [0, "0s"],
  ])("writes %d seconds as %j, which parseDuration reads back", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });
});

describe("parseRotationPeriod", () => {
  it("reads off as turning rotation off", () => {
    expect(parseRotationPeriod("off")).toBe("off");
    expect(parseRotationPeriod("OFF")).toBe("off");
  });

  it("reads anything else as a duration", () => {
    expect(parseRotationPeriod("90d")).toBe(7_776_000);
    expect(() => parseRotationPeriod("never")).toThrow(InvalidArgumentError);
  });
});

describe("integer", () => {
  it("accepts integers within the bounds", () => {
    expect(integer(1, 1024)("1")).toBe(1);
    expect(integer(1, 1024)(" 1024 ")).toBe(1024);
    expect(integer(1)("900000")).toBe(900_000);
  });

  it.each(["0", "1025", "1.5", "1e3", "abc", "", "0x10"])("refuses %j for 1-1024", (text) => {
    expect(() => integer(1, 1024)(text)).toThrow(InvalidArgumentError);
  });
});

describe("context and tag pairs", () => {
  it("splits at the first '=' so a value may contain '='", () => {
    expect(parsePair("vm=web-7")).toEqual(["vm", "web-7"]);
    expect(parsePair("sig=a=b==")).toEqual(["sig", "a=b=="]);
    expect(parsePair("empty=")).toEqual(["empty", ""]);
  });

  it("refuses a pair without '=' or with an empty key", () => {
    expect(() => parsePair("novalue")).toThrow(InvalidArgumentError);
    expect(() => parsePair("=value")).toThrow(InvalidArgumentError);
  });

  it("collects repeated pairs into one record", () => {
    let context = collectPair("vm=web-7", undefined);
    context = collectPair("purpose=disk", context);
    expect(context).toEqual({ vm: "web-7", purpose: "disk" });
  });

  it("refuses the same key twice", () => {
    expect(() => collectPair("vm=b", { vm: "a" })).toThrow(InvalidArgumentError);
  });

  it("keeps keys named like Object.prototype members as plain entries", () => {
    expect(collectPair("constructor=x", undefined)).toEqual({ constructor: "x" });
    const context = collectPair("__proto__=x", undefined);
    expect(Object.keys(context)).toEqual(["__proto__"]);
    expect(JSON.stringify(context)).toBe('{"__proto__":"x"}');
  });
});

describe("collect", () => {
  it("appends each parsed value", () => {
    const add = collect(Number);
    expect(add("2", add("1", undefined))).toEqual([1, 2]);
  });
});
