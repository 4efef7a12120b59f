/**
 * Envelope format: the v1, v2, v3 and v4 vectors in test/vectors/ciphertext-v1.json … -v4.json
 * (each generated once by an independent implementation of docs/formats.md), plus behaviour the
 * vectors cannot show.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type CiphertextAlgorithm,
  type EncryptionContext,
  TesseraError,
  algorithmIds,
  algorithmIdsV2,
  algorithmIdsV3,
  algorithmIdsV4,
  encodeContext,
  parseCiphertext,
} from "@tessera/protocol";
import { XaesKey } from "../crypto/index.js";
import { decryptEnvelope, deriveWorkKey, encryptEnvelope } from "./envelope.js";

interface PositiveVector {
  description: string;
  algorithm: CiphertextAlgorithm;
  material: string;
  keyId: string;
  keyVersion: number;
  nonce: string;
  context: Record<string, string>;
  encodedContext: string;
  plaintext: string;
  ciphertext: string;
}

interface DeriveVector {
  description: string;
  material: string;
  context: Record<string, string>;
  length: number;
  output: string;
}

interface NegativeVector {
  description: string;
  ciphertext: string;
  material: string;
  context: Record<string, string>;
  expectedError: "InvalidCiphertext";
}

const vectors = JSON.parse(readFileSync(new URL("../../../../test/vectors/ciphertext-v1.json", import.meta.url), "utf8")) as {
  positive: PositiveVector[];
  derive: DeriveVector[];
  negative: NegativeVector[];
};

const vectorsV2 = JSON.parse(readFileSync(new URL("../../../../test/vectors/ciphertext-v2.json", import.meta.url), "utf8")) as {
  positive: PositiveVector[];
  negative: NegativeVector[];
};

const vectorsV3 = JSON.parse(readFileSync(new URL("../../../../test/vectors/ciphertext-v3.json", import.meta.url), "utf8")) as {
  positive: PositiveVector[];
  negative: NegativeVector[];
};

const vectorsV4 = JSON.parse(readFileSync(new URL("../../../../test/vectors/ciphertext-v4.json", import.meta.url), "utf8")) as {
  positive: PositiveVector[];
  negative: NegativeVector[];
};

const hex = (s: string): Buffer => Buffer.from(s, "hex");
const allAlgorithms = [...Object.keys(algorithmIds), ...Object.keys(algorithmIdsV2)] as CiphertextAlgorithm[];

/** The whole decrypt path a service runs: parse the wire bytes, then open them. */
function open(ciphertext: Uint8Array, material: Uint8Array, context: EncryptionContext | undefined): Buffer {
  return decryptEnvelope(parseCiphertext(ciphertext), material, context);
}

/** Asserts the decrypt path fails with exactly TesseraError/InvalidCiphertext — never another error type. */
function expectInvalidCiphertext(attempt: () => unknown): void {
  let thrown: unknown;
  try {
    attempt();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "decryption unexpectedly succeeded").toBeInstanceOf(TesseraError);
  expect((thrown as TesseraError).code).toBe("InvalidCiphertext");
}

/** Each algorithm has vectors with an empty and a non-ASCII multi-pair context, an empty and a 4096-byte plaintext. */
function expectCoverage(positive: PositiveVector[], algorithms: string[]): void {
  expect(new Set(positive.map((v) => v.algorithm))).toEqual(new Set(algorithms));
  for (const algorithm of algorithms) {
    const mine = positive.filter((v) => v.algorithm === algorithm);
    expect(mine.some((v) => Object.keys(v.context).length === 0)).toBe(true);
    expect(mine.some((v) => Object.keys(v.context).length > 1 && /[^\x00-\x7f]/.test(JSON.stringify(v.context)))).toBe(true);
    expect(mine.some((v) => v.plaintext === "")).toBe(true);
    expect(mine.some((v) => v.plaintext.length === 4096 * 2)).toBe(true);
  }
}

/** The checks every format's vector file gets: positive vectors parse, open and re-encrypt to the same bytes; negative ones fail. */
function describeVectors(set: { positive: PositiveVector[]; negative: NegativeVector[] }, formatVersion: 1 | 2 | 3 | 4): void {
  describe.each(set.positive)("positive: $description", (v) => {
    const bytes = Buffer.from(v.ciphertext, "base64");

    it("is canonical standard base64", () => {
      expect(bytes.toString("base64")).toBe(v.ciphertext);
    });

    it("parses to its format version and the named algorithm, key id, key version and nonce", () => {
      const parsed = parseCiphertext(bytes);
      expect(parsed.formatVersion).toBe(formatVersion);
      expect(parsed.algorithm).toBe(v.algorithm);
      expect(parsed.keyId).toBe(v.keyId);
      expect(parsed.keyVersion).toBe(v.keyVersion);
      expect(Buffer.from(parsed.nonce).toString("hex")).toBe(v.nonce);
      expect(parsed.nonce).toHaveLength(formatVersion === 2 ? 24 : 12);
      expect(parsed.sealed.length).toBe(v.plaintext.length / 2 + 16);
    });

    it("encodes its context canonically", () => {
      expect(Buffer.from(encodeContext(v.context)).toString("hex")).toBe(v.encodedContext);
    });

    it("decrypts to the plaintext", () => {
      expect(open(bytes, hex(v.material), v.context).toString("hex")).toBe(v.plaintext);
    });

    it("re-encrypting with the recorded nonce reproduces the exact bytes", () => {
      const out = encryptEnvelope({
        algorithm: v.algorithm,
        keyId: v.keyId,
        keyVersion: v.keyVersion,
        material: hex(v.material),
        plaintext: hex(v.plaintext),
        context: v.context,
        nonce: hex(v.nonce),
      });
      expect(Buffer.from(out).toString("base64")).toBe(v.ciphertext);
    });

    it("does not depend on the order the context pairs are given in", () => {
      const reversed = Object.fromEntries(Object.entries(v.context).reverse());
      expect(open(bytes, hex(v.material), reversed).toString("hex")).toBe(v.plaintext);
    });
  });

  describe.each(set.negative)("negative: $description", (v) => {
    it(`fails with ${v.expectedError}`, () => {
      expect(v.expectedError).toBe("InvalidCiphertext");
      expectInvalidCiphertext(() => open(Buffer.from(v.ciphertext, "base64"), hex(v.material), v.context));
    });
  });
}

describe("ciphertext v1 vectors", () => {
  it("cover both algorithms, empty and non-ASCII contexts, empty and 4096-byte plaintexts", () => {
    expectCoverage(vectors.positive, Object.keys(algorithmIds));
    expect(vectors.negative.length).toBeGreaterThanOrEqual(20);
    expect(vectors.derive.length).toBeGreaterThanOrEqual(1);
  });

  describeVectors(vectors, 1);

  describe.each(vectors.derive)("derive: $description", (v) => {
    it("deriveWorkKey reproduces the output", () => {
      expect(deriveWorkKey(hex(v.material), v.context, v.length).toString("hex")).toBe(v.output);
    });
  });
});

describe("ciphertext v2 vectors", () => {
  it("cover both algorithms, empty and non-ASCII contexts, empty and 4096-byte plaintexts, the largest key version", () => {
    expectCoverage(vectorsV2.positive, Object.keys(algorithmIdsV2));
    for (const algorithm of Object.keys(algorithmIdsV2)) {
      expect(vectorsV2.positive.some((v) => v.algorithm === algorithm && v.keyVersion === 2 ** 32 - 1)).toBe(true);
    }
    expect(vectorsV2.negative.length).toBeGreaterThanOrEqual(40);
  });

  describeVectors(vectorsV2, 2);
});

describe("ciphertext v3 vectors (SM4-GCM)", () => {
  it("cover empty and non-ASCII contexts, empty and 4096-byte plaintexts, the largest key version, and wrong constructions", () => {
    expectCoverage(vectorsV3.positive, Object.keys(algorithmIdsV3));
    expect(vectorsV3.positive.some((v) => v.keyVersion === 2 ** 32 - 1)).toBe(true);
    expect(vectorsV3.negative.filter((v) => v.description.startsWith("deliberately wrong construction")).length).toBeGreaterThanOrEqual(3);
    expect(vectorsV3.negative.length).toBeGreaterThanOrEqual(25);
  });

  describeVectors(vectorsV3, 3);
});

describe("format v3 (SM4-GCM) beside v1 and v2", () => {
  const sm4Material = randomBytes(16);
  const sm4 = (plaintext: Uint8Array, context: EncryptionContext | undefined) =>
    encryptEnvelope({ algorithm: "SM4_GCM", keyId: randomUUID(), keyVersion: 1, material: sm4Material, plaintext, context });

  it("lays out header (version 3, algorithm 0x05), 12-byte nonce, ciphertext, tag; fresh nonces", () => {
    const ct = sm4(Buffer.from("abc"), { a: "b" });
    expect([ct[0], ct[1], ct[2]]).toEqual([0x54, 3, 0x05]);
    expect(ct.length).toBe(23 + 12 + 3 + 16);
    expect(open(ct, sm4Material, { a: "b" }).toString()).toBe("abc");
    expect(Buffer.from(sm4(Buffer.from("abc"), { a: "b" })).equals(Buffer.from(ct))).toBe(false);
  });

  it("every single-bit flip is InvalidCiphertext, for several lengths", () => {
    let flips = 0;
    for (const length of [0, 1, 16, 33]) {
      const context = { vm_id: "vm-1", "東京": "" };
      const ct = sm4(randomBytes(length), context);
      for (let bit = 0; bit < ct.length * 8; bit++) {
        const bad = Uint8Array.from(ct);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expectInvalidCiphertext(() => open(bad, sm4Material, context));
        flips++;
      }
    }
    expect(flips).toBe(8 * (4 * 51 + 0 + 1 + 16 + 33));
  }, 60_000);
});

describe("ciphertext v4 vectors (AES-128-GCM, ChaCha20-Poly1305, convergent)", () => {
  it("cover every v4 algorithm with empty and non-ASCII contexts, empty and 4096-byte plaintexts, the largest key version, and wrong constructions", () => {
    expectCoverage(vectorsV4.positive, Object.keys(algorithmIdsV4));
    for (const algorithm of Object.keys(algorithmIdsV4)) {
      expect(vectorsV4.positive.some((v) => v.algorithm === algorithm && v.keyVersion === 2 ** 32 - 1)).toBe(true);
    }
    expect(vectorsV4.negative.filter((v) => v.description.includes("deliberately wrong construction")).length).toBeGreaterThanOrEqual(10);
    expect(vectorsV4.negative.length).toBeGreaterThanOrEqual(60);
  });

  describeVectors(vectorsV4, 4);
});

describe("format v4: 96-bit-nonce AEADs and convergent mode", () => {
  const v4 = Object.keys(algorithmIdsV4) as CiphertextAlgorithm[];
  const materialFor = (algorithm: CiphertextAlgorithm) => randomBytes(algorithm.startsWith("AES_128") ? 16 : 32);
  const seal = (algorithm: CiphertextAlgorithm, m: Uint8Array, plaintext: Uint8Array, context: EncryptionContext | undefined) =>
    encryptEnvelope({ algorithm, keyId, keyVersion: 1, material: m, plaintext, context });

  it.each(v4)("%s: every single-bit flip is InvalidCiphertext (empty and 17-byte plaintexts)", (algorithm) => {
    const m = materialFor(algorithm);
    const context = { vm_id: "vm-1", "東京": "" };
    let flips = 0;
    for (const length of [0, 17]) {
      const ct = seal(algorithm, m, randomBytes(length), context);
      expect([ct[0], ct[1], ct[2]]).toEqual([0x54, 4, algorithmIdsV4[algorithm as keyof typeof algorithmIdsV4]]);
      expect(ct.length).toBe(23 + 12 + length + 16);
      for (let bit = 0; bit < ct.length * 8; bit++) {
        const bad = Uint8Array.from(ct);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expectInvalidCiphertext(() => open(bad, m, context));
        flips++;
      }
    }
    expect(flips).toBe(8 * (2 * 51 + 17));
  });

  it("convergent: equal (material, context, plaintext) give equal bytes; another plaintext, context or version gives others", () => {
    for (const algorithm of ["AES_256_GCM_CONVERGENT", "AES_128_GCM_CONVERGENT", "CHACHA20_POLY1305_CONVERGENT"] as const) {
      const m = materialFor(algorithm);
      const a = Buffer.from(seal(algorithm, m, Buffer.from("4111 1111 1111 1111"), { tenant: "a" }));
      expect(Buffer.from(seal(algorithm, m, Buffer.from("4111 1111 1111 1111"), { tenant: "a" })).equals(a)).toBe(true);
      expect(Buffer.from(seal(algorithm, m, Buffer.from("4111 1111 1111 1112"), { tenant: "a" })).equals(a)).toBe(false);
      const otherContext = Buffer.from(seal(algorithm, m, Buffer.from("4111 1111 1111 1111"), { tenant: "b" }));
      // A context changes the key, so the nonce of the same plaintext differs too (no cross-context linkage).
      expect(otherContext.subarray(23, 35).equals(a.subarray(23, 35))).toBe(false);
      const v2 = Buffer.from(encryptEnvelope({ algorithm, keyId, keyVersion: 2, material: materialFor(algorithm), plaintext: Buffer.from("4111 1111 1111 1111"), context: { tenant: "a" } }));
      expect(v2.equals(a)).toBe(false);
      expect(open(a, m, { tenant: "a" }).toString()).toBe("4111 1111 1111 1111");
    }
  });

  it("random-nonce v4 algorithms give fresh nonces", () => {
    for (const algorithm of ["AES_128_GCM", "CHACHA20_POLY1305", "AES_128_GCM_DERIVED", "CHACHA20_POLY1305_DERIVED"] as const) {
      const m = materialFor(algorithm);
      const a = Buffer.from(seal(algorithm, m, Buffer.from("x"), { a: "b" }));
      expect(Buffer.from(seal(algorithm, m, Buffer.from("x"), { a: "b" })).equals(a)).toBe(false);
    }
  });
});

const material = randomBytes(32);
const keyId = randomUUID();

function encrypt(algorithm: CiphertextAlgorithm, plaintext: Uint8Array, context: EncryptionContext | undefined, m: Uint8Array = material): Uint8Array {
  return encryptEnvelope({ algorithm, keyId, keyVersion: 1, material: m, plaintext, context });
}

describe.each(allAlgorithms)("envelope with %s", (algorithm) => {
  it("round-trips", () => {
    const plaintext = randomBytes(100);
    expect(open(encrypt(algorithm, plaintext, { a: "b" }), material, { a: "b" }).equals(plaintext)).toBe(true);
  });

  it("treats an undefined context as the empty context", () => {
    const plaintext = Buffer.from("x");
    expect(open(encrypt(algorithm, plaintext, undefined), material, {}).equals(plaintext)).toBe(true);
    expect(open(encrypt(algorithm, plaintext, {}), material, undefined).equals(plaintext)).toBe(true);
  });

  it("uses a fresh nonce per message, so equal plaintexts give different ciphertexts", () => {
    const a = encrypt(algorithm, Buffer.from("same"), {});
    const b = encrypt(algorithm, Buffer.from("same"), {});
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("rejects a ciphertext whose context differs, even by one pair's value", () => {
    const ct = encrypt(algorithm, Buffer.from("x"), { vm: "a", role: "web" });
    expectInvalidCiphertext(() => open(ct, material, { vm: "b", role: "web" }));
    expectInvalidCiphertext(() => open(ct, material, { vm: "a" }));
    expectInvalidCiphertext(() => open(ct, material, { vm: "a", role: "web", x: "" }));
  });

  it("binds key and value boundaries, so shifting bytes between them fails", () => {
    const ct = encrypt(algorithm, Buffer.from("x"), { ab: "c" });
    expectInvalidCiphertext(() => open(ct, material, { a: "bc" }));
  });

  it("rejects other material", () => {
    const ct = encrypt(algorithm, Buffer.from("x"), {});
    expectInvalidCiphertext(() => open(ct, randomBytes(32), {}));
  });

  it("never zeroes or changes the caller's material", () => {
    const m = randomBytes(32);
    const copy = Buffer.from(m);
    const ct = encrypt(algorithm, Buffer.from("x"), { a: "b" }, m);
    open(ct, m, { a: "b" });
    expectInvalidCiphertext(() => open(ct, m, { a: "c" }));
    expect(m.equals(copy)).toBe(true);
  });

  it("parses a ciphertext that sits at a non-zero offset inside a larger buffer", () => {
    const ct = encrypt(algorithm, Buffer.from("offset"), {});
    const backing = new Uint8Array(ct.length + 7);
    backing.set(ct, 7);
    expect(open(backing.subarray(7), material, {}).toString()).toBe("offset");
  });
});

describe("derived mode", () => {
  it("v1: the material alone does not open a derived ciphertext, even with the header's algorithm ignored", () => {
    const ct = encrypt("AES_256_GCM_DERIVED", Buffer.from("x"), { vm: "a" });
    // Re-labelled as plain AES_256_GCM: refused, if only because the header is authenticated.
    const relabelled = Buffer.from(ct);
    relabelled[2] = algorithmIds.AES_256_GCM;
    expectInvalidCiphertext(() => open(relabelled, material, { vm: "a" }));
    // Opened as plain AES_256_GCM with the header intact: refused because the message key is not the material.
    expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(ct), algorithm: "AES_256_GCM" }, material, { vm: "a" }));
  });

  it("v2: the material alone does not open a derived ciphertext, even with the header's algorithm ignored", () => {
    const ct = encrypt("XAES_256_GCM_DERIVED", Buffer.from("x"), { vm: "a" });
    const relabelled = Buffer.from(ct);
    relabelled[2] = algorithmIdsV2.XAES_256_GCM;
    expectInvalidCiphertext(() => open(relabelled, material, { vm: "a" }));
    expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(ct), algorithm: "XAES_256_GCM" }, material, { vm: "a" }));
  });
});

describe("format v2 beside v1", () => {
  it("lays out header (version 2, v2 algorithm id), 24-byte nonce, ciphertext, tag", () => {
    const ct = encryptEnvelope({ algorithm: "XAES_256_GCM", keyId, keyVersion: 9, material, plaintext: Buffer.from("abc"), context: undefined });
    expect(ct).toHaveLength(23 + 24 + 3 + 16);
    expect([ct[0], ct[1], ct[2]]).toEqual([0x54, 0x02, 0x03]);
    expect(ct.readUInt32BE(19)).toBe(9);
  });

  it("a v1 and a v2 ciphertext of the same message open with the same material; neither opens as the other", () => {
    for (const [v1, v2] of [
      ["AES_256_GCM", "XAES_256_GCM"],
      ["AES_256_GCM_DERIVED", "XAES_256_GCM_DERIVED"],
    ] as const) {
      const a = encrypt(v1, Buffer.from("same"), { vm: "a" });
      const b = encrypt(v2, Buffer.from("same"), { vm: "a" });
      expect(open(a, material, { vm: "a" }).toString()).toBe("same");
      expect(open(b, material, { vm: "a" }).toString()).toBe("same");
      expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(a), algorithm: v2 }, material, { vm: "a" }));
      expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(b), algorithm: v1 }, material, { vm: "a" }));
    }
  });

  it("a prepared XAES key gives the same bytes as the material, and derived mode ignores it", () => {
    const prepared = new XaesKey(material);
    try {
      const nonce = randomBytes(24);
      const base = { keyId, keyVersion: 3, material, plaintext: Buffer.from("p"), nonce };
      const raw = encryptEnvelope({ ...base, algorithm: "XAES_256_GCM", context: { a: "b" } });
      const fast = encryptEnvelope({ ...base, algorithm: "XAES_256_GCM", context: { a: "b" }, prepared });
      expect(fast.equals(raw)).toBe(true);
      expect(decryptEnvelope(parseCiphertext(raw), material, { a: "b" }, prepared).toString()).toBe("p");
      // A prepared key of other material would fail, so "same bytes" above proves it was used, and here that it was not.
      const other = new XaesKey(randomBytes(32));
      const derived = encryptEnvelope({ ...base, algorithm: "XAES_256_GCM_DERIVED", context: { a: "b" }, prepared: other });
      expect(derived.equals(encryptEnvelope({ ...base, algorithm: "XAES_256_GCM_DERIVED", context: { a: "b" } }))).toBe(true);
      expect(decryptEnvelope(parseCiphertext(derived), material, { a: "b" }, other).toString()).toBe("p");
      expectInvalidCiphertext(() => decryptEnvelope(parseCiphertext(raw), material, { a: "b" }, other));
      other.destroy();
    } finally {
      prepared.destroy();
    }
  });

  it("v2 ciphertexts: every single-bit flip is InvalidCiphertext, for both algorithms and several lengths", () => {
    let flips = 0;
    for (const algorithm of Object.keys(algorithmIdsV2) as CiphertextAlgorithm[]) {
      for (const length of [0, 1, 16, 33]) {
        const context = { vm_id: "vm-1", "東京": "" };
        const ct = encrypt(algorithm, randomBytes(length), context);
        for (let bit = 0; bit < ct.length * 8; bit++) {
          const bad = Uint8Array.from(ct);
          bad[bit >> 3]! ^= 1 << (bit & 7);
          expectInvalidCiphertext(() => open(bad, material, context));
          flips++;
        }
      }
    }
    expect(flips).toBe(2 * 8 * (4 * 63 + 0 + 1 + 16 + 33));
  }, 60_000);
});

describe("deriveWorkKey", () => {
  it("is deterministic and honours the requested length", () => {
    expect(deriveWorkKey(material, { vm: "a" }, 32).equals(deriveWorkKey(material, { vm: "a" }, 32))).toBe(true);
    expect(deriveWorkKey(material, { vm: "a" }, 16)).toHaveLength(16);
    expect(deriveWorkKey(material, { vm: "a" }, 64)).toHaveLength(64);
  });

  it("gives independent keys for distinct contexts and ignores pair order", () => {
    const a = deriveWorkKey(material, { vm: "a", p: "disk" }, 32);
    expect(a.equals(deriveWorkKey(material, { vm: "b", p: "disk" }, 32))).toBe(false);
    expect(a.equals(deriveWorkKey(material, { p: "disk", vm: "a" }, 32))).toBe(true);
  });

  it("is domain-separated from the derived-mode encryption key", () => {
    // Same material and context: a leaked work key must not open derived-mode ciphertexts.
    const context = { vm: "a" };
    const work = deriveWorkKey(material, context, 32);
    const ct = encrypt("AES_256_GCM_DERIVED", Buffer.from("x"), context);
    expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(ct), algorithm: "AES_256_GCM" }, work, context));
    const v2 = encrypt("XAES_256_GCM_DERIVED", Buffer.from("x"), context);
    expectInvalidCiphertext(() => decryptEnvelope({ ...parseCiphertext(v2), algorithm: "XAES_256_GCM" }, work, context));
  });
});

describe("property: every single-byte mutation is InvalidCiphertext", () => {
  const alphabet = ["a", "vm_id", "é", "東京", "🔑", "", "x".repeat(40)];
  const randomContext = (): Record<string, string> => {
    const out: Record<string, string> = {};
    const n = randomInt(0, 4);
    for (let i = 0; i < n; i++) out[`${alphabet[randomInt(0, alphabet.length)]}${i}`] = alphabet[randomInt(0, alphabet.length)]!;
    return out;
  };

  it("holds for 1000 random ciphertexts of both format versions, every position, random XOR masks", () => {
    const algorithms = allAlgorithms;
    let mutations = 0;
    for (let i = 0; i < 1000; i++) {
      const algorithm = algorithms[i % algorithms.length]!;
      const m = randomBytes(32);
      const context = randomContext();
      const plaintext = randomBytes(randomInt(0, 48));
      const ct = encryptEnvelope({
        algorithm,
        keyId: randomUUID(),
        keyVersion: randomInt(1, 2 ** 32),
        material: m,
        plaintext,
        context,
      });
      expect(open(ct, m, context).equals(plaintext)).toBe(true);
      for (let at = 0; at < ct.length; at++) {
        const bad = Uint8Array.from(ct);
        bad[at]! ^= randomInt(1, 256);
        expectInvalidCiphertext(() => open(bad, m, context));
        mutations++;
      }
      // Truncation to a random shorter length, and one appended byte.
      expectInvalidCiphertext(() => open(ct.subarray(0, randomInt(0, ct.length)), m, context));
      expectInvalidCiphertext(() => open(Uint8Array.of(...ct, randomInt(0, 256)), m, context));
    }
    expect(mutations).toBeGreaterThan(500 * 51 + 500 * 63);
  }, 120_000);
});
