import { generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derToJws, jwsToDer } from "./jws.js";

describe("ECDSA signature marshaling (asn1 ↔ jws)", () => {
  it.each([
    ["prime256v1", 32],
    ["secp384r1", 48],
    ["secp521r1", 66],
  ] as const)("round-trips %s signatures and matches node's ieee-p1363 encoding", (curve, field) => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    for (let i = 0; i < 20; i++) {
      const message = Buffer.from(`message ${i}`);
      const der = sign("sha256", message, privateKey);
      const jws = derToJws(der, field);
      const raw = Buffer.from(jws, "base64url");
      expect(raw).toHaveLength(2 * field);
      expect(verify("sha256", message, { key: publicKey, dsaEncoding: "ieee-p1363" }, raw)).toBe(true);
      expect(jwsToDer(raw).equals(der)).toBe(true);
    }
  });

  it("passes a signature that is not DER ECDSA through as base64", () => {
    const notDer = Buffer.from("not a signature");
    expect(derToJws(notDer, 32)).toBe(notDer.toString("base64"));
  });
});
