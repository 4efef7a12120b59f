import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { sm2Decrypt } from "./sm2-encrypt.js";
import { sm2Envelope } from "./sm2-envelope.js";
import { Sm2PrivateKey } from "./sm2-key.js";
import { sm4GcmOpen } from "./sm4-gcm.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** docs/formats.md, "sm2pke worked example". */
const vector = {
  d: hex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"),
  publicKey: hex("0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"),
  sm4Key: hex("0123456789abcdeffedcba9876543210"),
  aad: Buffer.from(`tessera/v1/export|alg=sm2pke|key=00000000-0000-4000-8000-000000000000|version=1|export=key-material|recipient=${"ab".repeat(32)}|context=-`),
  payload: hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
  encapsulatedKey: hex(`3079022004ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73
    022100e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0
    04204423b448d18b4a1a86b0e264e928007803243a5a8d9d0b0e8953bfe4e928adcf
    041045c54abc791125fbc9bae9ecc8a65559`),
  wrappedKey: hex(`00001234567800000000abcd
    bd58315922c87943aa626d29de720ec98309b10cadbd53dd549375447ae0c4f7
    525940b7f622b884d4065cd022a1e6ec`),
};

/** What a recipient does: SM2PKE-decrypt the SM4 key, then SM4-GCM-open nonce ‖ ciphertext ‖ tag. */
function open(key: Sm2PrivateKey, encapsulatedKey: Buffer, wrappedKey: Buffer, aad: Buffer): Buffer {
  const sm4Key = sm2Decrypt(key, encapsulatedKey);
  expect(sm4Key.length).toBe(16);
  return sm4GcmOpen(sm4Key, wrappedKey.subarray(0, 12), wrappedKey.subarray(12), aad);
}

describe("sm2pke envelope", () => {
  const key = Sm2PrivateKey.fromScalar(vector.d);

  it("opens the documented worked example to its SM4 key and payload", () => {
    expect(key.publicKey.raw.equals(vector.publicKey)).toBe(true);
    expect(sm2Decrypt(key, vector.encapsulatedKey).equals(vector.sm4Key)).toBe(true);
    expect(open(key, vector.encapsulatedKey, vector.wrappedKey, vector.aad).equals(vector.payload)).toBe(true);
  });

  it("seals payload + 28 bytes that open only with the same aad", () => {
    const { encapsulatedKey, wrappedKey } = sm2Envelope(key.publicKey, vector.payload, vector.aad);
    expect(wrappedKey.length).toBe(vector.payload.length + 28);
    expect(open(key, encapsulatedKey, wrappedKey, vector.aad).equals(vector.payload)).toBe(true);
    const other = Buffer.from(vector.aad.toString().replace("version=1", "version=2"));
    expect(() => open(key, encapsulatedKey, wrappedKey, other)).toThrow(TesseraError);
    expect(() => sm2Decrypt(Sm2PrivateKey.generate(), encapsulatedKey)).toThrow(TesseraError);
  });

  it("uses a fresh SM4 key and nonce each time", () => {
    const a = sm2Envelope(key.publicKey, vector.payload, vector.aad);
    const b = sm2Envelope(key.publicKey, vector.payload, vector.aad);
    expect(sm2Decrypt(key, a.encapsulatedKey).equals(sm2Decrypt(key, b.encapsulatedKey))).toBe(false);
    expect(a.wrappedKey.subarray(0, 12).equals(b.wrappedKey.subarray(0, 12))).toBe(false);
  });
});
