/**
 * Published known-answer vectors for the primitives, run through our wrappers (not node:crypto
 * directly), so a wrapper that mangles key, nonce, AAD or tag order fails here.
 * Sources: test/vectors/aes-gcm.json (McGrew–Viega GCM spec, AES-256 cases 13–16) and
 * test/vectors/hkdf-sha256.json (RFC 5869 Appendix A.1–A.3).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { aesGcmOpen, aesGcmSeal } from "./aead.js";
import { hkdfSha256 } from "./hkdf.js";

interface GcmVector {
  description: string;
  key: string;
  iv: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

interface HkdfVector {
  description: string;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  prk: string;
  okm: string;
}

const vectorsDir = new URL("../../../../test/vectors/", import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, vectorsDir), "utf8")) as T;
const hex = (s: string): Buffer => Buffer.from(s, "hex");

const gcm = load<{ vectors: GcmVector[] }>("aes-gcm.json").vectors;
const hkdf = load<{ vectors: HkdfVector[] }>("hkdf-sha256.json").vectors;

describe("AES-256-GCM published vectors", () => {
  it("has the four 96-bit-IV AES-256 cases", () => {
    expect(gcm).toHaveLength(4);
    for (const v of gcm) {
      expect(hex(v.key)).toHaveLength(32);
      expect(hex(v.iv)).toHaveLength(12);
    }
  });

  describe.each(gcm)("$description", (v) => {
    it("aesGcmSeal produces the published ciphertext ‖ tag", () => {
      const { nonce, sealed } = aesGcmSeal(hex(v.key), hex(v.plaintext), hex(v.aad), hex(v.iv));
      expect(nonce.toString("hex")).toBe(v.iv);
      expect(sealed.toString("hex")).toBe(v.ciphertext + v.tag);
    });

    it("aesGcmOpen recovers the published plaintext", () => {
      const opened = aesGcmOpen(hex(v.key), hex(v.iv), hex(v.ciphertext + v.tag), hex(v.aad));
      expect(opened.toString("hex")).toBe(v.plaintext);
    });

    it("aesGcmOpen rejects the vector with its tag, body or AAD changed", () => {
      const sealed = hex(v.ciphertext + v.tag);
      const attempts: [Buffer, Buffer][] = [];
      const badTag = Buffer.from(sealed);
      badTag[badTag.length - 1]! ^= 0x01;
      attempts.push([badTag, hex(v.aad)]);
      if (v.ciphertext.length > 0) {
        const badBody = Buffer.from(sealed);
        badBody[0]! ^= 0x80;
        attempts.push([badBody, hex(v.aad)]);
      }
      attempts.push([sealed, Buffer.concat([hex(v.aad), Buffer.of(0)])]);
      for (const [box, aad] of attempts) {
        expect(() => aesGcmOpen(hex(v.key), hex(v.iv), box, aad)).toThrow(expect.objectContaining({ code: "InvalidCiphertext" }));
      }
    });
  });
});

describe("HKDF-SHA256 published vectors (RFC 5869 Appendix A)", () => {
  it("has test cases 1–3", () => {
    expect(hkdf).toHaveLength(3);
  });

  describe.each(hkdf)("$description", (v) => {
    it("hkdfSha256 produces the published OKM", () => {
      expect(hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), v.length).toString("hex")).toBe(v.okm);
    });

    it("a prefix of the OKM equals a shorter derivation (RFC 5869 §2.3)", () => {
      expect(hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), 16).toString("hex")).toBe(v.okm.slice(0, 32));
    });
  });
});

describe("vector loading sanity", () => {
  it("a wrong expectation would fail: the decrypt check is not vacuous", () => {
    const v = gcm[2]!;
    let thrown: unknown;
    try {
      aesGcmOpen(hex(v.key), hex(v.iv), hex(v.ciphertext + v.tag), hex("00"));
    } catch (err) {
      thrown = err;
    }
    expect(isTesseraError(thrown)).toBe(true);
  });
});
