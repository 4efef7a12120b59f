/**
 * Published known-answer vectors for the Chinese commercial algorithms and HMAC, run through our
 * wrappers: SM3 and SM4 (GB/T 32905, GB/T 32907), SM4-GCM (RFC 8998 A.1 and Wycheproof), SM2
 * signature and encryption (GM/T 0003.5 / GB/T 32918.5 Annexes A and C), HMAC (Wycheproof, full tags).
 * Files and sources: test/vectors/README.md.
 */
import { createCipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sm4 } from "sm-crypto-v2";
import { hmac, macAlgorithms, verifyHmac, type MacAlgorithm } from "./hmac.js";
import { decodeCiphertext, encodeCiphertext, sm2Decrypt, sm2Encrypt } from "./sm2-encrypt.js";
import { SM2_DEFAULT_ID, Sm2PrivateKey, Sm2PublicKey } from "./sm2-key.js";
import { decodeSignature, encodeSignature, sm2Sign, sm2Verify } from "./sm2-sign.js";
import { sm3 } from "./sm3.js";
import { sm4GcmOpen, sm4GcmSeal } from "./sm4-gcm.js";

const vectorsDir = new URL("../../../../test/vectors/", import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, vectorsDir), "utf8")) as T;
const hex = (s: string): Buffer => Buffer.from(s, "hex");
const invalid = expect.objectContaining({ code: "InvalidCiphertext" });

interface AeadTest {
  tcId: number;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid";
}
const smBasics = load<{
  sm3: { message: string; digest: string }[];
  sm4: { key: string; plaintext: string; iterations: number; ciphertext: string }[];
}>("sm3-sm4.json");
const gcm = load<{ rfc8998: { key: string; iv: string; aad: string; plaintext: string; ciphertext: string; tag: string }; wycheproof: { tests: AeadTest[] } }>(
  "sm4-gcm.json",
);
const sm2v = load<{
  key: { privateKey: string; publicKey: string };
  signature: { id: string; message: string; k: string; r: string; s: string };
  encryption: { plaintext: string; k: string; c1: string; c3: string; c2: string; der: string };
}>("sm2.json");
interface MacTest {
  tcId: number;
  key: string;
  msg: string;
  tag: string;
  result: "valid" | "invalid";
}
const macs = load<{ algorithms: Record<MacAlgorithm, { groups: { tagSize: number; tests: MacTest[] }[] }> }>("hmac.json");

describe("SM3 (GB/T 32905 Appendix A)", () => {
  it.each(smBasics.sm3)("hashes the standard's example to $digest", (v) => {
    expect(sm3(hex(v.message)).toString("hex")).toBe(v.digest);
  });
});

describe("SM4 block cipher (GB/T 32907 Appendix A)", () => {
  // The SM4 that SM4-GCM runs is sm-crypto-v2's; OpenSSL's (node:crypto sm4-ecb) is the independent check.
  it.each(smBasics.sm4.filter((v) => v.iterations === 1))("sm-crypto-v2's SM4 gives the standard's ciphertext", (v) => {
    const out = sm4.encrypt(hex(v.plaintext), hex(v.key), { padding: "none", output: "array" });
    expect(Buffer.from(out).toString("hex")).toBe(v.ciphertext);
  });

  it.each(smBasics.sm4)("OpenSSL's SM4 gives the standard's ciphertext after $iterations encryption(s)", (v) => {
    const ecb = createCipheriv("sm4-ecb", hex(v.key), null).setAutoPadding(false);
    let block = hex(v.plaintext);
    for (let i = 0; i < v.iterations; i++) block = ecb.update(block);
    expect(block.toString("hex")).toBe(v.ciphertext);
  });
});

describe("SM4-GCM (RFC 8998 A.1, Wycheproof)", () => {
  const v = gcm.rfc8998;

  it("seals RFC 8998's example to its ciphertext ‖ tag, and opens it", () => {
    const { nonce, sealed } = sm4GcmSeal(hex(v.key), hex(v.plaintext), hex(v.aad), hex(v.iv));
    expect(nonce.toString("hex")).toBe(v.iv);
    expect(sealed.toString("hex")).toBe(v.ciphertext + v.tag);
    expect(sm4GcmOpen(hex(v.key), hex(v.iv), sealed, hex(v.aad)).toString("hex")).toBe(v.plaintext);
  });

  it("refuses RFC 8998's example with any one bit of body, tag, nonce or AAD flipped", () => {
    const sealed = hex(v.ciphertext + v.tag);
    let refused = 0;
    for (let bit = 0; bit < sealed.length * 8; bit += 7) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => sm4GcmOpen(hex(v.key), hex(v.iv), bad, hex(v.aad))).toThrow(invalid);
      refused++;
    }
    const badIv = hex(v.iv);
    badIv[11]! ^= 1;
    expect(() => sm4GcmOpen(hex(v.key), badIv, sealed, hex(v.aad))).toThrow(invalid);
    expect(() => sm4GcmOpen(hex(v.key), hex(v.iv), sealed, hex(v.aad).subarray(1))).toThrow(invalid);
    expect(() => sm4GcmOpen(hex(v.key), hex(v.iv), sealed.subarray(0, 15), hex(v.aad))).toThrow(invalid);
    expect(refused).toBe(Math.ceil((sealed.length * 8) / 7));
  });

  it("has Wycheproof's 96-bit-nonce group, valid and invalid cases", () => {
    expect(gcm.wycheproof.tests.length).toBe(65);
    expect(new Set(gcm.wycheproof.tests.map((t) => t.result))).toEqual(new Set(["valid", "invalid"]));
  });

  it.each(gcm.wycheproof.tests)("Wycheproof tcId $tcId ($result)", (t) => {
    const box = hex(t.ct + t.tag);
    if (t.result === "valid") {
      expect(sm4GcmSeal(hex(t.key), hex(t.msg), hex(t.aad), hex(t.iv)).sealed.toString("hex")).toBe(t.ct + t.tag);
      expect(sm4GcmOpen(hex(t.key), hex(t.iv), box, hex(t.aad)).toString("hex")).toBe(t.msg);
    } else {
      expect(() => sm4GcmOpen(hex(t.key), hex(t.iv), box, hex(t.aad))).toThrow(invalid);
    }
  });

  it("refuses keys and nonces of the wrong length as programming errors", () => {
    expect(() => sm4GcmSeal(Buffer.alloc(32), Buffer.alloc(1), Buffer.alloc(0))).toThrow(RangeError);
    expect(() => sm4GcmSeal(Buffer.alloc(16), Buffer.alloc(1), Buffer.alloc(0), Buffer.alloc(16))).toThrow(RangeError);
    expect(() => sm4GcmOpen(Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(32), Buffer.alloc(0))).toThrow(invalid);
  });
});

describe("SM2 (GM/T 0003.5-2012 / GB/T 32918.5-2017 worked examples)", () => {
  const key = Sm2PrivateKey.fromScalar(hex(sm2v.key.privateKey));
  const sig = sm2v.signature;
  const enc = sm2v.encryption;

  it("derives the standard's public key from its private key", () => {
    expect(key.publicKey.raw.toString("hex")).toBe(sm2v.key.publicKey);
  });

  it("signs the Annex A message with the Annex A k to exactly (r, s), default id", () => {
    expect(hex(sig.id).equals(SM2_DEFAULT_ID)).toBe(true);
    const der = sm2Sign(key, { message: hex(sig.message) }, hex(sig.k));
    expect(decodeSignature(der)).toEqual({ r: hex(sig.r), s: hex(sig.s) });
    expect(der.equals(encodeSignature(hex(sig.r), hex(sig.s)))).toBe(true);
  });

  it("verifies the Annex A signature, and refuses it under another id, message or key", () => {
    const der = encodeSignature(hex(sig.r), hex(sig.s));
    const pub = Sm2PublicKey.fromRaw(hex(sm2v.key.publicKey));
    expect(sm2Verify(pub, { message: hex(sig.message) }, der)).toBe(true);
    expect(sm2Verify(pub, { message: hex(sig.message), id: Buffer.from("ALICE123@YAHOO.COM") }, der)).toBe(false);
    expect(sm2Verify(pub, { message: Buffer.from("message digesT") }, der)).toBe(false);
    expect(sm2Verify(Sm2PrivateKey.generate().publicKey, { message: hex(sig.message) }, der)).toBe(false);
  });

  it("encrypts the Annex C plaintext with the Annex C k to exactly C1 ‖ C3 ‖ C2 (as GM/T 0009 DER)", () => {
    const der = sm2Encrypt(key.publicKey, hex(enc.plaintext), hex(enc.k));
    expect(der.toString("hex")).toBe(enc.der);
    expect(decodeCiphertext(der)).toEqual({ c1: hex(enc.c1), c3: hex(enc.c3), c2: hex(enc.c2) });
    expect(encodeCiphertext({ c1: hex(enc.c1), c3: hex(enc.c3), c2: hex(enc.c2) }).toString("hex")).toBe(enc.der);
  });

  it("decrypts the Annex C ciphertext in DER and in raw C1 ‖ C3 ‖ C2, and refuses raw C1 ‖ C2 ‖ C3", () => {
    expect(sm2Decrypt(key, hex(enc.der)).toString("hex")).toBe(enc.plaintext);
    expect(sm2Decrypt(key, hex(enc.c1 + enc.c3 + enc.c2)).toString("hex")).toBe(enc.plaintext);
    expect(() => sm2Decrypt(key, hex(enc.c1 + enc.c2 + enc.c3))).toThrow(invalid);
  });
});

describe("HMAC (Wycheproof, full-length tags)", () => {
  it("covers every MacAlgorithm with valid and invalid cases", () => {
    for (const alg of macAlgorithms) {
      const tests = macs.algorithms[alg].groups.flatMap((g) => g.tests);
      expect(tests.length).toBeGreaterThan(80);
      expect(new Set(tests.map((t) => t.result))).toEqual(new Set(["valid", "invalid"]));
    }
  });

  describe.each(macAlgorithms)("%s", (alg) => {
    const tests = macs.algorithms[alg].groups.flatMap((g) => g.tests);
    it("computes every valid tag and verifies exactly the valid ones", () => {
      let valid = 0;
      for (const t of tests) {
        const key = hex(t.key);
        expect(verifyHmac(alg, key, hex(t.msg), hex(t.tag))).toBe(t.result === "valid");
        if (t.result === "valid") {
          expect(hmac(alg, key, hex(t.msg)).toString("hex")).toBe(t.tag);
          valid++;
        }
      }
      expect(valid).toBeGreaterThan(0);
    });
  });
});
