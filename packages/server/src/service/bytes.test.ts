import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isCanonicalBase64 } from "@tessera/protocol";
import { isCanonicalBase64Fast } from "./bytes.js";

describe("isCanonicalBase64Fast", () => {
  it("takes what Buffer encodes and refuses what the protocol's check refuses", () => {
    const encodings = Array.from({ length: 65 }, (_, n) => randomBytes(n).toString("base64"));
    expect(encodings.filter((s) => !isCanonicalBase64Fast(s))).toEqual([]);
    const malformed = ["hello world", "aGVsbG8", "aGVsbG8==", "aGVs bG8=", "aGVsbG8=\n", "aGVs-G8=", "aGVs_G8=", "=", "a===", "aGVsbG9=", "QR==", "QRF=", "QQ=A", "é", "aGk=\u0000", " aGk="];
    expect(malformed.filter(isCanonicalBase64)).toEqual([]);
    expect(malformed.filter(isCanonicalBase64Fast)).toEqual([]);
  });

  it("agrees with the portable check on random strings over base64's alphabet, its padding and its look-alikes", () => {
    const chars = "AQgw+/=-_ \n.Zz09";
    for (let i = 0; i < 50_000; i++) {
      let s = "";
      for (let n = randomInt(13); n > 0; n--) s += chars[randomInt(chars.length)];
      if (isCanonicalBase64Fast(s) !== isCanonicalBase64(s)) expect(s).toBe("agreed on by both checks");
    }
  });
});
