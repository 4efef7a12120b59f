import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isCanonicalBase64 } from "@tessera/protocol";
import { isCanonicalBase64Fast } from "./bytes.js";

describe("isCanonicalBase64Fast", () => {
  it("agrees with the protocol's portable check on every encoding Buffer writes and on malformed text", () => {
    for (let n = 0; n <= 64; n++) {
      for (const last of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
        const bytes = Buffer.alloc(n, 0xa5);
        if (n > 0) bytes[n - 1] = last;
        expect(isCanonicalBase64Fast(bytes.toString("base64"))).toBe(true);
      }
    }
    for (const s of ["hello world", "aGVsbG8", "aGVsbG8==", "aGVs bG8=", "aGVsbG8=\n", "aGVs-G8=", "aGVs_G8=", "=", "a===", "aGVsbG9=", "QR==", "QRF=", "QQ=A", "é", "aGk=\u0000", " aGk="]) {
      expect([s, isCanonicalBase64Fast(s)]).toEqual([s, false]);
    }
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
