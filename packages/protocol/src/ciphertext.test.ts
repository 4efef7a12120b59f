import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CIPHERTEXT_MAGIC,
  CURRENT_FORMAT_VERSION,
  HEADER_LENGTH,
  MAX_CONTEXT_BYTES,
  MIN_CIPHERTEXT_LENGTH,
  MIN_CIPHERTEXT_LENGTH_V2,
  MIN_CIPHERTEXT_LENGTH_V3,
  NONCE_LENGTH_V2,
  algorithmId,
  algorithmIds,
  algorithmIdsV2,
  algorithmIdsV3,
  formatVersionOf,
  nonceLengthOf,
  assembleCiphertext,
  checkContext,
  encodeContext,
  encodeHeader,
  isUuid,
  parseCiphertext,
  uuidFromBytes,
  uuidToBytes,
} from "./ciphertext.js";
import { TesseraError } from "./errors.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Parsing `bytes` fails as InvalidCiphertext; returns the error's message. */
function expectInvalidCiphertext(bytes: Uint8Array): string {
  let thrown: unknown;
  try {
    parseCiphertext(bytes);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TesseraError);
  expect((thrown as TesseraError).code).toBe("InvalidCiphertext");
  return (thrown as TesseraError).message;
}

/** A copy of `bytes` with `at` set to `value` (or the key version zeroed, for `at` = "keyVersion"). */
function withByte(bytes: Uint8Array, at: number | "keyVersion", value = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  if (at === "keyVersion") copy.fill(0, 19, 23);
  else copy[at] = value;
  return copy;
}

describe("UUID helpers", () => {
  it("round-trips random UUIDs through 16 bytes", () => {
    for (let i = 0; i < 200; i++) {
      const id = randomUUID();
      const bytes = uuidToBytes(id);
      expect(bytes).toHaveLength(16);
      expect(uuidFromBytes(bytes)).toBe(id);
    }
  });

  it("maps bytes to the textual form in order, big-endian, lower case", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(uuidFromBytes(bytes)).toBe("00112233-4455-6677-8899-aabbccddeeff");
    expect(hex(uuidToBytes("00112233-4455-6677-8899-aabbccddeeff"))).toBe(hex(bytes));
    expect(uuidFromBytes(new Uint8Array(16))).toBe("00000000-0000-0000-0000-000000000000");
    expect(uuidFromBytes(new Uint8Array(16).fill(0xff))).toBe("ffffffff-ffff-ffff-ffff-ffffffffffff");
  });

  it("reads a UUID from a subarray at an offset", () => {
    const backing = new Uint8Array(20);
    backing.set(uuidToBytes("00112233-4455-6677-8899-aabbccddeeff"), 3);
    expect(uuidFromBytes(backing.subarray(3, 19))).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  it.each([
    "",
    "00112233-4455-6677-8899-AABBCCDDEEFF",
    "00112233445566778899aabbccddeeff",
    "{00112233-4455-6677-8899-aabbccddeeff}",
    "00112233-4455-6677-8899-aabbccddeef",
    "00112233-4455-6677-8899-aabbccddeefff",
    "0011223g-4455-6677-8899-aabbccddeeff",
    " 00112233-4455-6677-8899-aabbccddeeff",
  ])("rejects %j as a key id", (text) => {
    expect(isUuid(text)).toBe(false);
    expect(() => uuidToBytes(text)).toThrow(RangeError);
  });
});

describe("encodeContext", () => {
  it("encodes the empty and the absent context as two zero bytes", () => {
    expect(hex(encodeContext(undefined))).toBe("0000");
    expect(hex(encodeContext({}))).toBe("0000");
  });

  it("matches the worked example in docs/formats.md", () => {
    expect(hex(encodeContext({ vm_id: "vm-1", purpose: "backup" }))).toBe(
      "0002" + "0007" + "707572706f7365" + "0006" + "6261636b7570" + "0005" + "766d5f6964" + "0004" + "766d2d31",
    );
  });

  it("is independent of the order pairs were written in", () => {
    const pairs: [string, string][] = [
      ["b", "1"],
      ["a", "2"],
      ["ab", "3"],
      ["Z", "4"],
      ["é", "5"],
      ["_", "6"],
    ];
    const forward = encodeContext(Object.fromEntries(pairs));
    const backward = encodeContext(Object.fromEntries([...pairs].reverse()));
    expect(hex(forward)).toBe(hex(backward));
  });

  it("orders keys by their UTF-8 bytes: upper case first, prefixes first, then non-ASCII", () => {
    const encoded = Buffer.from(encodeContext({ é: "", b: "", ab: "", a: "", Z: "" }));
    const keys: string[] = [];
    let at = 2;
    for (let i = 0; i < encoded.readUInt16BE(0); i++) {
      const kl = encoded.readUInt16BE(at);
      keys.push(encoded.subarray(at + 2, at + 2 + kl).toString("utf8"));
      at += 2 + kl;
      at += 2 + encoded.readUInt16BE(at);
    }
    expect(keys).toEqual(["Z", "a", "ab", "b", "é"]);
    expect(at).toBe(encoded.length);
  });

  it("orders by UTF-8 bytes, not UTF-16 code units (U+FF61 before U+1F511)", () => {
    // UTF-16 would put the surrogate pair D83D… first; UTF-8 EF BD A1 < F0 9F 94 91.
    expect(hex(encodeContext({ "\u{1F511}": "b", "\uFF61": "a" }))).toBe("00020003efbda10001610004f09f9491000162");
  });

  it("length-prefixes keys and values in UTF-8 bytes", () => {
    expect(hex(encodeContext({ région: "東京" }))).toBe("0001000772c3a967696f6e0006e69db1e4baac");
  });

  it("keeps key/value boundaries unambiguous", () => {
    expect(hex(encodeContext({ ab: "c" }))).not.toBe(hex(encodeContext({ a: "bc" })));
    expect(hex(encodeContext({ a: "", b: "" }))).not.toBe(hex(encodeContext({ a: "b" })));
  });

  it("allows empty values and values up to 65535 bytes", () => {
    expect(hex(encodeContext({ k: "" }))).toBe("000100016b0000");
    expect(encodeContext({ k: "v".repeat(0xffff) })).toHaveLength(2 + 2 + 1 + 2 + 0xffff);
  });

  it("rejects an empty key and keys or values longer than 65535 bytes", () => {
    expect(() => encodeContext({ "": "x" })).toThrow(RangeError);
    expect(() => encodeContext({ ["k".repeat(0x10000)]: "x" })).toThrow(RangeError);
    expect(() => encodeContext({ k: "v".repeat(0x10000) })).toThrow(RangeError);
    // 0x8000 three-byte characters: short in UTF-16, too long in UTF-8.
    expect(() => encodeContext({ k: "東".repeat(0x8000) })).toThrow(RangeError);
  });
});

describe("checkContext", () => {
  function expectInvalidInput(attempt: () => unknown, field: string): void {
    let thrown: unknown;
    try {
      attempt();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TesseraError);
    expect((thrown as TesseraError).code).toBe("InvalidInput");
    expect((thrown as TesseraError).field).toBe(field);
  }

  it("accepts an absent, empty or ordinary context", () => {
    expect(() => checkContext(undefined)).not.toThrow();
    expect(() => checkContext({})).not.toThrow();
    expect(() => checkContext({ vm_id: "vm-1", "東京": "", "🔑": "x" })).not.toThrow();
  });

  it("rejects an empty key as InvalidInput naming the field", () => {
    expectInvalidInput(() => checkContext({ "": "x" }), "/context");
    expectInvalidInput(() => checkContext({ a: "b", "": "" }, "/sourceContext"), "/sourceContext");
  });

  it("rejects a non-string value as InvalidInput naming the pair", () => {
    expectInvalidInput(() => checkContext({ n: 1 } as unknown as Record<string, string>), "/context/n");
  });

  it("limits the encoded size to MAX_CONTEXT_BYTES, counting UTF-8 bytes", () => {
    expect(MAX_CONTEXT_BYTES).toBe(8192);
    // 2 (count) + 2 + 1 ("k") + 2 + value = 8192
    const fits = { k: "v".repeat(MAX_CONTEXT_BYTES - 7) };
    expect(encodeContext(fits)).toHaveLength(MAX_CONTEXT_BYTES);
    expect(() => checkContext(fits)).not.toThrow();
    expectInvalidInput(() => checkContext({ k: "v".repeat(MAX_CONTEXT_BYTES - 6) }), "/context");
    // 2731 three-byte characters are 8193 bytes: short in UTF-16, over the limit in UTF-8.
    expectInvalidInput(() => checkContext({ k: "東".repeat(2731) }, "/destinationContext"), "/destinationContext");
  });

  it("guarantees encodeContext will not throw for any context it accepts", () => {
    const accepted = [{}, { a: "" }, { k: "v".repeat(MAX_CONTEXT_BYTES - 7) }, Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, "v"]))];
    for (const context of accepted) {
      checkContext(context);
      expect(() => encodeContext(context)).not.toThrow();
    }
  });
});

describe("ciphertext header", () => {
  const keyId = "00112233-4455-6677-8899-aabbccddeeff";

  it("has fixed wire algorithm ids", () => {
    expect(algorithmIds).toEqual({ AES_256_GCM: 0x01, AES_256_GCM_DERIVED: 0x02 });
    expect(Object.isFrozen(algorithmIds)).toBe(true);
  });

  it("lays out magic, version, algorithm, key id and big-endian key version in 23 bytes", () => {
    const header = encodeHeader("AES_256_GCM_DERIVED", keyId, 0x01020304);
    expect(HEADER_LENGTH).toBe(23);
    expect(hex(header)).toBe("54" + "01" + "02" + "00112233445566778899aabbccddeeff" + "01020304");
    expect(CIPHERTEXT_MAGIC).toBe(0x54);
  });

  it.each([0, -1, 1.5, 2 ** 32, Number.NaN])("refuses key version %s", (version) => {
    expect(() => encodeHeader("AES_256_GCM", keyId, version)).toThrow(RangeError);
  });

  it("accepts key versions 1 and 2^32 − 1", () => {
    expect(hex(encodeHeader("AES_256_GCM", keyId, 1)).slice(-8)).toBe("00000001");
    expect(hex(encodeHeader("AES_256_GCM", keyId, 2 ** 32 - 1)).slice(-8)).toBe("ffffffff");
  });

  it("refuses a key id that is not a lower-case UUID", () => {
    expect(() => encodeHeader("AES_256_GCM", keyId.toUpperCase(), 1)).toThrow(RangeError);
  });
});

describe("parseCiphertext", () => {
  const keyId = randomUUID();
  const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
  const sealed = Uint8Array.from({ length: 16 }, (_, i) => i);
  const minimal = assembleCiphertext(encodeHeader("AES_256_GCM", keyId, 0xfffffffe), nonce, sealed);

  it("parses the smallest well-formed ciphertext (header, nonce, bare tag)", () => {
    expect(minimal).toHaveLength(MIN_CIPHERTEXT_LENGTH);
    expect(MIN_CIPHERTEXT_LENGTH).toBe(51);
    const parsed = parseCiphertext(minimal);
    expect(parsed).toMatchObject({ formatVersion: 1, algorithm: "AES_256_GCM", keyId, keyVersion: 0xfffffffe });
    expect(hex(parsed.header)).toBe(hex(minimal.subarray(0, 23)));
    expect(hex(parsed.nonce)).toBe(hex(nonce));
    expect(hex(parsed.sealed)).toBe(hex(sealed));
  });

  it("parses from a buffer at a non-zero offset", () => {
    const backing = new Uint8Array(minimal.length + 5);
    backing.set(minimal, 5);
    expect(parseCiphertext(backing.subarray(5))).toMatchObject({ keyId, keyVersion: 0xfffffffe });
  });

  it("parses the derived algorithm id", () => {
    const ct = assembleCiphertext(encodeHeader("AES_256_GCM_DERIVED", keyId, 1), nonce, sealed);
    expect(parseCiphertext(ct).algorithm).toBe("AES_256_GCM_DERIVED");
  });

  it("rejects every length below the minimum", () => {
    for (let n = 0; n < MIN_CIPHERTEXT_LENGTH; n++) expectInvalidCiphertext(minimal.subarray(0, n));
  });

  it("rejects a wrong magic byte", () => {
    for (const magic of [0x00, 0x55, 0xd4, 0xff]) {
      const bad = Uint8Array.from(minimal);
      bad[0] = magic;
      expectInvalidCiphertext(bad);
    }
  });

  it("rejects unknown format versions, including 0, and a v1 body relabelled as v2", () => {
    for (const version of [0x00, 0x02, 0x03, 0x7f, 0xff]) {
      const bad = Uint8Array.from(minimal);
      bad[1] = version;
      expectInvalidCiphertext(bad);
    }
    // Long enough for v2 (so not refused for its length alone): refused for its v1 algorithm id.
    const longV1 = assembleCiphertext(encodeHeader("AES_256_GCM", keyId, 1), nonce, new Uint8Array(40));
    expect(parseCiphertext(longV1).formatVersion).toBe(1);
    expectInvalidCiphertext(withByte(longV1, 1, 0x02));
  });

  it("rejects every unknown algorithm id", () => {
    const known = new Set<number>(Object.values(algorithmIds));
    for (let id = 0; id < 256; id++) {
      if (known.has(id)) continue;
      const bad = Uint8Array.from(minimal);
      bad[2] = id;
      expectInvalidCiphertext(bad);
    }
  });

  it("rejects key version 0", () => {
    const bad = Uint8Array.from(minimal);
    bad.fill(0, 19, 23);
    expectInvalidCiphertext(bad);
  });

  it("fails with the same message whatever was wrong", () => {
    // One input per check: empty, wrong magic, unknown version, too short, unknown algorithm, key version 0.
    const failures = [new Uint8Array(0), withByte(minimal, 0, 0x55), Uint8Array.of(0x54, 0x09), minimal.subarray(0, 50), withByte(minimal, 2, 0x7f), withByte(minimal, "keyVersion")];
    expect(new Set(failures.map(expectInvalidCiphertext)).size).toBe(1);
  });
});

describe("format v2", () => {
  const keyId = randomUUID();
  const nonce = Uint8Array.from({ length: 24 }, (_, i) => 0xb0 + i);
  const sealed = Uint8Array.from({ length: 16 }, (_, i) => i);
  const minimal = assembleCiphertext(encodeHeader("XAES_256_GCM", keyId, 0xfffffffe), nonce, sealed);

  it("has its own algorithm ids, none of them a v1 id, and is what new ciphertexts use", () => {
    expect(algorithmIdsV2).toEqual({ XAES_256_GCM: 0x03, XAES_256_GCM_DERIVED: 0x04 });
    expect(Object.isFrozen(algorithmIdsV2)).toBe(true);
    const v1 = new Set<number>(Object.values(algorithmIds));
    for (const id of Object.values(algorithmIdsV2)) expect(v1.has(id)).toBe(false);
    expect(CURRENT_FORMAT_VERSION).toBe(2);
  });

  it("maps every algorithm to one format version, wire id and nonce length", () => {
    expect(formatVersionOf("AES_256_GCM")).toBe(1);
    expect(formatVersionOf("AES_256_GCM_DERIVED")).toBe(1);
    expect(formatVersionOf("XAES_256_GCM")).toBe(2);
    expect(formatVersionOf("XAES_256_GCM_DERIVED")).toBe(2);
    expect(["AES_256_GCM", "AES_256_GCM_DERIVED", "XAES_256_GCM", "XAES_256_GCM_DERIVED"].map((a) => algorithmId(a as never))).toEqual([1, 2, 3, 4]);
    expect(nonceLengthOf("AES_256_GCM")).toBe(12);
    expect(nonceLengthOf("XAES_256_GCM_DERIVED")).toBe(NONCE_LENGTH_V2);
  });

  it("writes the v2 header: version 0x02 and the v2 algorithm id; v1 headers are unchanged", () => {
    expect(hex(encodeHeader("XAES_256_GCM_DERIVED", "00112233-4455-6677-8899-aabbccddeeff", 0x01020304))).toBe(
      "54" + "02" + "04" + "00112233445566778899aabbccddeeff" + "01020304",
    );
    expect(hex(encodeHeader("AES_256_GCM", "00112233-4455-6677-8899-aabbccddeeff", 1))).toBe("540101" + "00112233445566778899aabbccddeeff" + "00000001");
  });

  it("parses the smallest well-formed v2 ciphertext (header, 24-byte nonce, bare tag): 63 bytes", () => {
    expect(minimal).toHaveLength(MIN_CIPHERTEXT_LENGTH_V2);
    expect(MIN_CIPHERTEXT_LENGTH_V2).toBe(63);
    const parsed = parseCiphertext(minimal);
    expect(parsed).toMatchObject({ formatVersion: 2, algorithm: "XAES_256_GCM", keyId, keyVersion: 0xfffffffe });
    expect(hex(parsed.header)).toBe(hex(minimal.subarray(0, HEADER_LENGTH)));
    expect(hex(parsed.nonce)).toBe(hex(nonce));
    expect(hex(parsed.sealed)).toBe(hex(sealed));
  });

  it("parses the derived v2 algorithm, and from a buffer at a non-zero offset", () => {
    const ct = assembleCiphertext(encodeHeader("XAES_256_GCM_DERIVED", keyId, 1), nonce, sealed);
    expect(parseCiphertext(ct).algorithm).toBe("XAES_256_GCM_DERIVED");
    const backing = new Uint8Array(ct.length + 3);
    backing.set(ct, 3);
    expect(parseCiphertext(backing.subarray(3))).toMatchObject({ formatVersion: 2, keyId, keyVersion: 1 });
  });

  it("rejects every length below 63, although v1's minimum is 51", () => {
    for (let n = 0; n < MIN_CIPHERTEXT_LENGTH_V2; n++) expectInvalidCiphertext(minimal.subarray(0, n));
  });

  it("rejects every algorithm id that is not a v2 id, v1's included", () => {
    const known = new Set<number>(Object.values(algorithmIdsV2));
    for (let id = 0; id < 256; id++) {
      if (known.has(id)) continue;
      const bad = Uint8Array.from(minimal);
      bad[2] = id;
      expectInvalidCiphertext(bad);
    }
  });

  it("v1 does not accept v2's algorithm ids", () => {
    for (const id of Object.values(algorithmIdsV2)) {
      const bad = Uint8Array.from(minimal);
      bad[1] = 0x01;
      bad[2] = id;
      expectInvalidCiphertext(bad);
    }
  });

  it("rejects key version 0 and a wrong magic", () => {
    const zeroVersion = Uint8Array.from(minimal);
    zeroVersion.fill(0, 19, 23);
    expectInvalidCiphertext(zeroVersion);
    const magic = Uint8Array.from(minimal);
    magic[0] = 0x55;
    expectInvalidCiphertext(magic);
  });

  it("fails with the same message as v1 whatever was wrong", () => {
    // v2's own checks (too short, a v1 algorithm id, key version 0) and v1's (wrong magic, a short v1 body).
    const v1Minimal = assembleCiphertext(encodeHeader("AES_256_GCM", keyId, 1), nonce.subarray(0, 12), sealed);
    const failures = [
      minimal.subarray(0, 62),
      Uint8Array.of(0x54, 0x02),
      withByte(minimal, 2, 0x01),
      withByte(minimal, "keyVersion"),
      new Uint8Array(10),
      v1Minimal.subarray(0, 50),
    ];
    expect(new Set(failures.map(expectInvalidCiphertext)).size).toBe(1);
  });
});

describe("format v3 (SM4-GCM)", () => {
  const keyId = randomUUID();

  it("has its own algorithm id, format version and 12-byte nonce", () => {
    expect(algorithmIdsV3).toEqual({ SM4_GCM: 0x05 });
    expect([algorithmId("SM4_GCM"), formatVersionOf("SM4_GCM"), nonceLengthOf("SM4_GCM")]).toEqual([0x05, 3, 12]);
    expect(Array.from(encodeHeader("SM4_GCM", keyId, 9).subarray(0, 3))).toEqual([0x54, 3, 5]);
  });

  it("parses the smallest v3 ciphertext (51 bytes) and refuses one byte less", () => {
    const smallest = assembleCiphertext(encodeHeader("SM4_GCM", keyId, 1), new Uint8Array(12), new Uint8Array(16));
    expect(smallest).toHaveLength(MIN_CIPHERTEXT_LENGTH_V3);
    expect(parseCiphertext(smallest)).toMatchObject({ formatVersion: 3, algorithm: "SM4_GCM", keyId, keyVersion: 1 });
    expect(() => parseCiphertext(smallest.subarray(0, 50))).toThrow(expect.objectContaining({ code: "InvalidCiphertext" }));
  });

  it("refuses v1 and v2 algorithm ids in a v3 header, and the v3 id in v1 and v2 headers", () => {
    const body = new Uint8Array(40);
    for (const [version, id] of [[3, 0x01], [3, 0x03], [3, 0x04], [3, 0x06], [1, 0x05], [2, 0x05]] as const) {
      const bytes = assembleCiphertext(encodeHeader("SM4_GCM", keyId, 1), new Uint8Array(24), body);
      bytes[1] = version;
      bytes[2] = id;
      expect(() => parseCiphertext(bytes), `version ${version} id ${id}`).toThrow(expect.objectContaining({ code: "InvalidCiphertext" }));
    }
  });
});
