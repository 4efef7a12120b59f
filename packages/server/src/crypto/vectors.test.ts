/**
 * Published known-answer vectors for the primitives, run through our wrappers (not node:crypto
 * directly), so a wrapper that mangles key, nonce, AAD or tag order fails here.
 * Sources: test/vectors/aes-gcm.json (McGrew–Viega GCM spec, AES-256 cases 13–16),
 * test/vectors/hkdf-sha256.json (RFC 5869 Appendix A.1–A.3) and test/vectors/xaes-256-gcm.json
 * (C2SP XAES-256-GCM: both short vectors and the accumulated randomized tests).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { aesGcmOpen, aesGcmSeal } from "./aead.js";
import { hkdfSha256 } from "./hkdf.js";
import { XaesKey, xaesDeriveKey, xaesGcmOpen, xaesGcmSeal } from "./xaes.js";

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

interface XaesVector {
  description: string;
  key: string;
  nonce: string;
  L: string;
  K1: string;
  M1: string;
  M2: string;
  derivedKey: string;
  derivedNonce: string;
  plaintext: string;
  aad: string;
  ciphertext: string;
}

const gcm = load<{ vectors: GcmVector[] }>("aes-gcm.json").vectors;
const hkdf = load<{ vectors: HkdfVector[] }>("hkdf-sha256.json").vectors;
const xaes = load<{ vectors: XaesVector[]; accumulated: { rngStreamStart: string; results: { iterations: number; hash: string }[] } }>(
  "xaes-256-gcm.json",
);

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

describe("XAES-256-GCM published vectors (C2SP)", () => {
  it("has both short vectors, covering both branches of the CMAC subkey (MSB(L) = 0 and 1)", () => {
    expect(xaes.vectors).toHaveLength(2);
    expect(xaes.vectors.map((v) => hex(v.L)[0]! >>> 7)).toEqual([0, 1]);
  });

  describe.each(xaes.vectors)("$description", (v) => {
    it("xaesDeriveKey gives the published Kx, and Nx is the nonce's last 12 bytes", () => {
      expect(xaesDeriveKey(hex(v.key), hex(v.nonce)).toString("hex")).toBe(v.derivedKey);
      expect(v.nonce.slice(24)).toBe(v.derivedNonce);
      // M1 and M2 carry the nonce's first 12 bytes (the derivation's input).
      expect(v.M1.slice(8)).toBe(v.nonce.slice(0, 24));
    });

    it("xaesGcmSeal produces the published ciphertext ‖ tag", () => {
      const { nonce, sealed } = xaesGcmSeal(hex(v.key), hex(v.plaintext), hex(v.aad), hex(v.nonce));
      expect(nonce.toString("hex")).toBe(v.nonce);
      expect(sealed.toString("hex")).toBe(v.ciphertext);
    });

    it("a prepared XaesKey gives the published Kx and ciphertext ‖ tag", () => {
      const prepared = new XaesKey(hex(v.key));
      try {
        expect(prepared.deriveKey(hex(v.nonce)).toString("hex")).toBe(v.derivedKey);
        expect(xaesGcmSeal(prepared, hex(v.plaintext), hex(v.aad), hex(v.nonce)).sealed.toString("hex")).toBe(v.ciphertext);
      } finally {
        prepared.destroy();
      }
    });

    it("xaesGcmOpen recovers the plaintext and rejects a changed tag, nonce or AAD", () => {
      expect(xaesGcmOpen(hex(v.key), hex(v.nonce), hex(v.ciphertext), hex(v.aad)).toString("hex")).toBe(v.plaintext);
      const badTag = hex(v.ciphertext);
      badTag[badTag.length - 1]! ^= 0x01;
      const invalid = expect.objectContaining({ code: "InvalidCiphertext" });
      expect(() => xaesGcmOpen(hex(v.key), hex(v.nonce), badTag, hex(v.aad))).toThrow(invalid);
      for (const at of [0, 11, 12, 23]) {
        const badNonce = hex(v.nonce);
        badNonce[at]! ^= 0x01;
        expect(() => xaesGcmOpen(hex(v.key), badNonce, hex(v.ciphertext), hex(v.aad))).toThrow(invalid);
      }
      expect(() => xaesGcmOpen(hex(v.key), hex(v.nonce), hex(v.ciphertext), Buffer.concat([hex(v.aad), Buffer.of(0)]))).toThrow(invalid);
    });
  });

  /** The spec's deterministic RNG: one SHAKE-128 stream over the empty input, read front to back. */
  class ShakeStream {
    private bytes = Buffer.alloc(0);
    private at = 0;
    constructor(private readonly expected: number) {}
    read(n: number): Buffer {
      if (this.at + n > this.bytes.length) {
        // node:crypto's SHAKE is one-shot: squeeze a longer prefix of the same stream when short.
        this.bytes = createHash("shake128", { outputLength: Math.max(this.expected, this.bytes.length * 2, this.at + n) }).digest();
      }
      const out = this.bytes.subarray(this.at, this.at + n);
      this.at += n;
      return out;
    }
  }

  function accumulated(iterations: number): string {
    // Each iteration reads 59 + 2·127.5 bytes on average.
    const rng = new ShakeStream(iterations * 316);
    const hash = createHash("shake128", { outputLength: 32 });
    for (let i = 0; i < iterations; i++) {
      const key = rng.read(32);
      const nonce = rng.read(24);
      const plaintext = rng.read(rng.read(1)[0]!);
      const aad = rng.read(rng.read(1)[0]!);
      const { sealed } = xaesGcmSeal(key, plaintext, aad, nonce);
      hash.update(sealed);
      if (i % 100 === 0) expect(xaesGcmOpen(key, nonce, sealed, aad).equals(plaintext)).toBe(true);
    }
    return hash.digest("hex");
  }

  it("reads the spec's RNG stream (SHAKE-128 of the empty input)", () => {
    expect(new ShakeStream(64).read(16).toString("hex")).toBe(xaes.accumulated.rngStreamStart);
  });

  it("matches the accumulated randomized test over 10,000 iterations", () => {
    const expected = xaes.accumulated.results.find((r) => r.iterations === 10_000)!;
    expect(accumulated(10_000)).toBe(expected.hash);
  });

  // About a minute and 650 MB (node:crypto's SHAKE cannot squeeze incrementally): run with TESSERA_SLOW_VECTORS=1.
  it.skipIf(process.env["TESSERA_SLOW_VECTORS"] !== "1")("matches the accumulated randomized test over 1,000,000 iterations", () => {
    const expected = xaes.accumulated.results.find((r) => r.iterations === 1_000_000)!;
    expect(accumulated(1_000_000)).toBe(expected.hash);
  }, 600_000);
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
