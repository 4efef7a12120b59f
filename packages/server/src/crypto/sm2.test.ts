/** SM2 beyond the standard's examples: round trips, every refusal the standard asks for, and key encodings. */
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DerReader, TAG_SEQUENCE, tlv } from "./der.js";
import { decodeCiphertext, encodeCiphertext, sm2Decrypt, sm2Encrypt, sm2Kdf } from "./sm2-encrypt.js";
import { SM2_CURVE, Sm2KeyError, Sm2PrivateKey, Sm2PublicKey, scalarBytes } from "./sm2-key.js";
import { generateSm2Pkcs8, isSm2Key, sm2PrivateKeyOf, sm2PublicKeyOf } from "./sm2-keyobject.js";
import { sm2PkeDecrypt, sm2PkeEncrypt, sm2Signer } from "./sm2-operations.js";
import { decodeSignature, encodeSignature, sm2Digest, sm2Sign, sm2Verify } from "./sm2-sign.js";
import { sm3Concat } from "./sm3.js";

const invalid = expect.objectContaining({ code: "InvalidCiphertext" });
const key = Sm2PrivateKey.generate();
const pub = key.publicKey;

describe("SM2DSA", () => {
  const message = Buffer.from("sign me");

  it("verifies its own signatures over messages of several sizes, with the default and a given id", () => {
    for (const size of [0, 1, 64, 4096]) {
      const m = randomBytes(size);
      expect(sm2Verify(pub, { message: m }, sm2Sign(key, { message: m }))).toBe(true);
      const id = Buffer.from(`id-${size}`);
      expect(sm2Verify(pub, { message: m, id }, sm2Sign(key, { message: m, id }))).toBe(true);
    }
  });

  it("a digest input is e = SM3(Z ‖ M): signing the digest verifies as the message, and back", () => {
    const e = sm3Concat(pub.z(), message);
    expect(sm2Digest(pub, { message }).equals(e)).toBe(true);
    expect(sm2Verify(pub, { message }, sm2Sign(key, { digest: e }))).toBe(true);
    expect(sm2Verify(pub, { digest: e }, sm2Sign(key, { message }))).toBe(true);
    expect(() => sm2Sign(key, { digest: e.subarray(1) })).toThrow(RangeError);
    expect(sm2Verify(pub, { digest: e.subarray(1) }, sm2Sign(key, { message }))).toBe(false);
  });

  it("signatures are randomised: two signatures of one message differ and both verify", () => {
    const a = sm2Sign(key, { message });
    const b = sm2Sign(key, { message });
    expect(a.equals(b)).toBe(false);
    expect([sm2Verify(pub, { message }, a), sm2Verify(pub, { message }, b)]).toEqual([true, true]);
  });

  it("refuses a signature with any byte changed", () => {
    const sig = sm2Sign(key, { message });
    for (let i = 0; i < sig.length; i++) {
      const bad = Buffer.from(sig);
      bad[i]! ^= 0x01;
      expect(sm2Verify(pub, { message }, bad)).toBe(false);
    }
  });

  it("refuses r or s outside [1, n−1] (GB/T 32918.2 §7.1 B1–B2), even where the equation would hold modulo n", () => {
    const { r, s } = decodeSignature(sm2Sign(key, { message }))!;
    const n = SM2_CURVE.n;
    const plusN = (v: Buffer): Buffer => Buffer.from((BigInt(`0x${v.toString("hex")}`) + n).toString(16).padStart(66, "0"), "hex");
    expect(sm2Verify(pub, { message }, encodeSignature(plusN(r), s))).toBe(false);
    expect(sm2Verify(pub, { message }, encodeSignature(r, plusN(s)))).toBe(false);
    expect(sm2Verify(pub, { message }, encodeSignature(Buffer.of(0), s))).toBe(false);
    expect(sm2Verify(pub, { message }, encodeSignature(r, scalarBytes(n)))).toBe(false);
  });

  it("refuses non-canonical DER: a padded integer, long-form short length, trailing bytes, raw r ‖ s", () => {
    const { r, s } = decodeSignature(sm2Sign(key, { message }))!;
    const int = (v: Uint8Array) => tlv(0x02, v);
    const padded = tlv(TAG_SEQUENCE, int(Buffer.concat([Buffer.of(0, 0), r])), int(Buffer.concat([Buffer.of(0), s])));
    const canonical = encodeSignature(r, s);
    const longForm = Buffer.concat([Buffer.of(0x30, 0x81, canonical[1]!), canonical.subarray(2)]);
    for (const bad of [padded, longForm, Buffer.concat([canonical, Buffer.of(0)]), Buffer.concat([r, s]), Buffer.alloc(0)]) {
      expect(sm2Verify(pub, { message }, bad)).toBe(false);
    }
    expect(sm2Verify(pub, { message }, canonical)).toBe(true);
  });

  it("an id longer than ENTL can count (8191 bytes) is a programming error when signing, a failure when verifying", () => {
    const id = Buffer.alloc(8192, 0x61);
    expect(() => sm2Sign(key, { message, id })).toThrow(RangeError);
    expect(sm2Verify(pub, { message, id }, sm2Sign(key, { message }))).toBe(false);
    const longest = Buffer.alloc(8191, 0x61);
    expect(sm2Verify(pub, { message, id: longest }, sm2Sign(key, { message, id: longest }))).toBe(true);
  });
});

describe("SM2PKE", () => {
  it("round-trips plaintexts of 1 … 4096 bytes, each ciphertext 97 bytes plus DER framing longer than its plaintext", () => {
    for (const size of [1, 2, 31, 32, 33, 4096]) {
      const plaintext = randomBytes(size);
      const ct = sm2Encrypt(pub, plaintext);
      expect(sm2Decrypt(key, ct).equals(plaintext)).toBe(true);
      const parts = decodeCiphertext(ct)!;
      expect([parts.c1.length, parts.c3.length, parts.c2.length]).toEqual([65, 32, size]);
    }
  });

  it("encryption is randomised: the same plaintext never gives the same C1", () => {
    const c1s = new Set(Array.from({ length: 8 }, () => decodeCiphertext(sm2Encrypt(pub, Buffer.of(7)))!.c1.toString("hex")));
    expect(c1s.size).toBe(8);
  });

  it("refuses a ciphertext with any byte changed, under another key, or cut short", () => {
    const ct = sm2Encrypt(pub, Buffer.from("secret data key"));
    for (let i = 0; i < ct.length; i++) {
      const bad = Buffer.from(ct);
      bad[i]! ^= 0x01;
      expect(() => sm2Decrypt(key, bad)).toThrow(invalid);
    }
    expect(() => sm2Decrypt(Sm2PrivateKey.generate(), ct)).toThrow(invalid);
    expect(() => sm2Decrypt(key, ct.subarray(0, ct.length - 1))).toThrow(invalid);
    expect(() => sm2Decrypt(key, Buffer.alloc(0))).toThrow(invalid);
  });

  it("refuses C1 off the curve, C1 with a coordinate ≥ p, an empty C2 and a short C3 (GB/T 32918.4 §7.1 B1)", () => {
    const parts = decodeCiphertext(sm2Encrypt(pub, Buffer.from("x")))!;
    const offCurve = Buffer.from(parts.c1);
    offCurve[64]! ^= 0x01;
    // x + 2^256 (a 33-byte INTEGER) is not a field element: it must not be reduced into a valid point.
    const bigX = tlv(
      TAG_SEQUENCE,
      tlv(0x02, Buffer.concat([Buffer.of(0x01), parts.c1.subarray(1, 33)])),
      tlv(0x02, Buffer.concat([Buffer.of(0), parts.c1.subarray(33)])),
      tlv(0x04, parts.c3),
      tlv(0x04, parts.c2),
    );
    for (const bad of [
      encodeCiphertext({ ...parts, c1: offCurve }),
      bigX,
      encodeCiphertext({ ...parts, c2: Buffer.alloc(0) }),
      encodeCiphertext({ ...parts, c3: parts.c3.subarray(1) }),
      Buffer.concat([Buffer.of(4), Buffer.alloc(64), parts.c3, parts.c2]),
    ]) {
      expect(() => sm2Decrypt(key, bad)).toThrow(invalid);
    }
  });

  it("refuses empty and oversized plaintexts as programming errors", () => {
    expect(() => sm2Encrypt(pub, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => sm2Encrypt(pub, Buffer.alloc(64 * 1024 + 1))).toThrow(RangeError);
  });

  it("the KDF is SM3(Z ‖ ct) for ct = 1, 2, … truncated (GB/T 32918.4 §5.4.3)", () => {
    const z = Buffer.from("shared point");
    const ct = (i: number) => Buffer.from([0, 0, 0, i]);
    expect(sm2Kdf(z, 40).equals(Buffer.concat([sm3Concat(z, ct(1)), sm3Concat(z, ct(2))]).subarray(0, 40))).toBe(true);
  });
});

describe("SM2 keys", () => {
  it("accepts d in [1, n−2] and refuses 0, n−1 and n (GB/T 32918.1 §6.1)", () => {
    expect(Sm2PrivateKey.fromScalar(scalarBytes(1n)).publicKey.raw.subarray(1, 33).equals(scalarBytes(SM2_CURVE.gx))).toBe(true);
    expect(() => Sm2PrivateKey.fromScalar(scalarBytes(SM2_CURVE.n - 2n))).not.toThrow();
    for (const d of [0n, SM2_CURVE.n - 1n, SM2_CURVE.n]) expect(() => Sm2PrivateKey.fromScalar(scalarBytes(d))).toThrow(Sm2KeyError);
    expect(() => Sm2PrivateKey.fromScalar(Buffer.alloc(31, 1))).toThrow(Sm2KeyError);
  });

  it("generates distinct keys", () => {
    const ds = new Set(Array.from({ length: 16 }, () => Sm2PrivateKey.generate().scalar().toString("hex")));
    expect(ds.size).toBe(16);
  });

  it("PKCS#8 and SPKI round-trip, in the shape Node writes for an SM2 key", () => {
    const again = Sm2PrivateKey.fromPkcs8(key.toPkcs8());
    expect(again.scalar().equals(key.scalar())).toBe(true);
    expect(Sm2PublicKey.fromSpki(pub.toSpki()).raw.equals(pub.raw)).toBe(true);
    const node = generateKeyPairSync("ec", { namedCurve: "SM2" });
    const nodePkcs8 = node.privateKey.export({ format: "der", type: "pkcs8" });
    const loaded = Sm2PrivateKey.fromPkcs8(nodePkcs8);
    expect(loaded.toPkcs8().equals(nodePkcs8)).toBe(true);
    expect(loaded.publicKey.toSpki().equals(node.publicKey.export({ format: "der", type: "spki" }))).toBe(true);
  });

  it("refuses a PKCS#8 whose embedded public key is another key's, and keys on other curves", () => {
    const mixed = key.toPkcs8();
    mixed.set(Sm2PrivateKey.generate().publicKey.raw, mixed.length - 65);
    expect(() => Sm2PrivateKey.fromPkcs8(mixed)).toThrow(Sm2KeyError);
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(() => Sm2PrivateKey.fromPkcs8(p256.privateKey.export({ format: "der", type: "pkcs8" }))).toThrow(Sm2KeyError);
    expect(() => Sm2PublicKey.fromSpki(p256.publicKey.export({ format: "der", type: "spki" }))).toThrow(Sm2KeyError);
    expect(() => Sm2PrivateKey.fromPkcs8(Buffer.concat([key.toPkcs8(), Buffer.of(0)]))).toThrow(Sm2KeyError);
  });

  it("refuses public keys that are compressed, off the curve, or the wrong size", () => {
    const compressed = Buffer.concat([Buffer.of(2 + (pub.raw[64]! & 1)), pub.x]);
    const off = Buffer.from(pub.raw);
    off[64]! ^= 1;
    for (const bad of [compressed, off, pub.raw.subarray(0, 64), Buffer.alloc(65)]) expect(() => Sm2PublicKey.fromRaw(bad)).toThrow(Sm2KeyError);
  });
});

describe("DER reader", () => {
  it("reads exactly one TLV and refuses lengths past the end", () => {
    const r = new DerReader(Buffer.from("3003020101", "hex")).enter(TAG_SEQUENCE);
    expect(r.readSmall()).toBe(1);
    r.end();
    expect(() => new DerReader(Buffer.from("3004020101", "hex")).enter(TAG_SEQUENCE)).toThrow(expect.objectContaining({ name: "DerError" }));
  });
});

describe("SM2 keys as KeyObjects", () => {
  it("an SM2 PKCS#8 parsed by node:crypto (OpenSSL's SM2 type, unnamed by Node) converts back to the same key, once", () => {
    const ko = createPrivateKey({ key: key.toPkcs8(), format: "der", type: "pkcs8" });
    expect(ko.asymmetricKeyType).toBeUndefined();
    expect(isSm2Key(ko)).toBe(true);
    const sm2 = sm2PrivateKeyOf(ko);
    expect(sm2.scalar().equals(key.scalar())).toBe(true);
    expect(sm2PrivateKeyOf(ko)).toBe(sm2);
    const pub = createPublicKey(ko);
    expect(sm2PublicKeyOf(pub).raw.equals(key.publicKey.raw)).toBe(true);
    expect(sm2Verify(sm2PublicKeyOf(pub), { message: Buffer.from("m") }, sm2Sign(sm2, { message: Buffer.from("m") }))).toBe(true);
  });

  it("keys of other kinds are not SM2 keys", () => {
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ed = generateKeyPairSync("ed25519");
    for (const k of [p256.privateKey, p256.publicKey, ed.privateKey, createSecretKey(Buffer.alloc(16))]) expect(isSm2Key(k)).toBe(false);
    expect(() => sm2PrivateKeyOf(p256.privateKey)).toThrow(Sm2KeyError);
  });

  it("generateSm2Pkcs8 makes a PKCS#8 that node:crypto and we both read", () => {
    const der = generateSm2Pkcs8();
    expect(sm2PrivateKeyOf(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).toPkcs8().equals(der)).toBe(true);
  });
});

describe("SM2 rows on KeyObjects", () => {
  const ko = createPrivateKey({ key: key.toPkcs8(), format: "der", type: "pkcs8" });
  const pubKo = createPublicKey(ko);
  const m = Buffer.from("row message");

  it("signs RAW with the default or a given id, and DIGEST = SM3(Z ‖ M); verify agrees and refuses mismatches", () => {
    const raw = sm2Signer.sign(ko, m, "RAW");
    expect(sm2Signer.verify(pubKo, m, "RAW", raw)).toBe(true);
    expect(sm2Signer.verify(pubKo, sm2Digest(pub, { message: m }), "DIGEST", raw)).toBe(true);
    const withId = sm2Signer.sign(ko, m, "RAW", Buffer.from("alice"));
    expect(sm2Signer.verify(pubKo, m, "RAW", withId, Buffer.from("alice"))).toBe(true);
    expect(sm2Signer.verify(pubKo, m, "RAW", withId)).toBe(false);
    expect(() => sm2Signer.sign(ko, sm2Digest(pub, { message: m }), "DIGEST", Buffer.from("alice"))).toThrow(RangeError);
    expect(sm2Signer.verify(pubKo, m, "DIGEST", raw)).toBe(false);
  });

  it("encrypts to the public KeyObject and decrypts with the private one", () => {
    const ct = sm2PkeEncrypt(pubKo, m);
    expect(sm2PkeDecrypt(ko, ct).equals(m)).toBe(true);
    expect(() => sm2PkeDecrypt(createPrivateKey({ key: generateSm2Pkcs8(), format: "der", type: "pkcs8" }), ct)).toThrow(invalid);
  });
});
