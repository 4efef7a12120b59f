import { describe, expect, it } from "vitest";
import { createSecretKey } from "node:crypto";
import { hmac, macAlgorithms, macDigests, verifyHmac } from "./hmac.js";

describe("HMAC", () => {
  const key = Buffer.alloc(32, 7);
  const message = Buffer.from("mac me");

  it.each(macAlgorithms)("%s: a MAC has the digest's length and verifies, under a raw key or a KeyObject alike", (alg) => {
    const mac = hmac(alg, key, message);
    expect(mac.length).toBe(macDigests[alg].length);
    expect(hmac(alg, createSecretKey(key), message).equals(mac)).toBe(true);
    expect(verifyHmac(alg, key, message, mac)).toBe(true);
  });

  it.each(macAlgorithms)("%s: refuses a MAC that is cut short, extended, another algorithm's, or under another key", (alg) => {
    const mac = hmac(alg, key, message);
    expect(verifyHmac(alg, key, message, mac.subarray(0, mac.length - 1))).toBe(false);
    expect(verifyHmac(alg, key, message, Buffer.concat([mac, Buffer.of(0)]))).toBe(false);
    expect(verifyHmac(alg, Buffer.alloc(32, 8), message, mac)).toBe(false);
    for (const other of macAlgorithms.filter((a) => a !== alg)) {
      expect(verifyHmac(other, key, message, mac)).toBe(false);
    }
  });

  it("HMAC_SHA_256 and HMAC_SM3 of the same key and message differ (the algorithm is not cosmetic)", () => {
    expect(hmac("HMAC_SHA_256", key, message).equals(hmac("HMAC_SM3", key, message))).toBe(false);
  });
});
