import { describe, expect, it } from "vitest";
import { isCanonicalBase64 } from "./base64.js";

describe("isCanonicalBase64", () => {
  it("accepts what Buffer encodes, for every length 0–64 and every last byte", () => {
    for (let n = 0; n <= 64; n++) {
      for (const last of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
        const bytes = Buffer.alloc(n, 0xa5);
        if (n > 0) bytes[n - 1] = last;
        expect(isCanonicalBase64(bytes.toString("base64"))).toBe(true);
      }
    }
  });

  it("refuses other alphabets, missing or extra padding, whitespace and non-zero padding bits", () => {
    for (const s of ["hello world", "aGVsbG8", "aGVsbG8==", "aGVs bG8=", "aGVsbG8=\n", "aGVs-G8=", "aGVs_G8=", "=", "a===", "aGVsbG9=", "QR==", "QRF=", "QQ=A"]) {
      expect([s, isCanonicalBase64(s)]).toEqual([s, false]);
    }
  });
});
