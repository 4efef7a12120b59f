import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { ROOT_KEY_AAD, keyVersionAad, openRecord, sealRecord } from "./keyring-record.js";

const rootKey = randomBytes(32);
const keyId = randomUUID();

function expectInvalidCiphertext(attempt: () => unknown): void {
  let thrown: unknown;
  try {
    attempt();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "opening unexpectedly succeeded").toBeInstanceOf(TesseraError);
  expect((thrown as TesseraError).code).toBe("InvalidCiphertext");
}

describe("keyring records", () => {
  it("round-trip a secret under its AAD", () => {
    const secret = randomBytes(32);
    const record = sealRecord(rootKey, secret, keyVersionAad(keyId, 1));
    expect(openRecord(rootKey, record, keyVersionAad(keyId, 1)).equals(secret)).toBe(true);
  });

  it("lay out as 0x01 ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag", () => {
    const record = sealRecord(rootKey, randomBytes(32), ROOT_KEY_AAD);
    expect(record[0]).toBe(0x01);
    expect(record).toHaveLength(1 + 12 + 32 + 16);
  });

  it("use a fresh nonce per seal", () => {
    const secret = randomBytes(32);
    const a = sealRecord(rootKey, secret, ROOT_KEY_AAD);
    const b = sealRecord(rootKey, secret, ROOT_KEY_AAD);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
  });

  it("name the key id and version in the AAD, and the root key has its own AAD", () => {
    expect(keyVersionAad(keyId, 3).toString("utf8")).toBe(`tessera/keyring/v1|key=${keyId}|version=3`);
    expect(ROOT_KEY_AAD.toString("utf8")).toBe("tessera/root-key/v1");
  });

  it("reject a record moved to another version, another key, or used as the root key", () => {
    const record = sealRecord(rootKey, randomBytes(32), keyVersionAad(keyId, 1));
    expectInvalidCiphertext(() => openRecord(rootKey, record, keyVersionAad(keyId, 2)));
    expectInvalidCiphertext(() => openRecord(rootKey, record, keyVersionAad(randomUUID(), 1)));
    expectInvalidCiphertext(() => openRecord(rootKey, record, ROOT_KEY_AAD));
    // Version 1 vs 11 must not collide in the AAD string.
    const v11 = sealRecord(rootKey, randomBytes(32), keyVersionAad(keyId, 11));
    expectInvalidCiphertext(() => openRecord(rootKey, v11, keyVersionAad(keyId, 1)));
  });

  it("reject the wrong wrapping key", () => {
    const record = sealRecord(rootKey, randomBytes(32), ROOT_KEY_AAD);
    expectInvalidCiphertext(() => openRecord(randomBytes(32), record, ROOT_KEY_AAD));
  });

  it("reject any flipped byte, including the version byte", () => {
    const aad = keyVersionAad(keyId, 1);
    const record = sealRecord(rootKey, randomBytes(32), aad);
    for (let i = 0; i < record.length; i++) {
      const bad = Buffer.from(record);
      bad[i]! ^= 0x01 << i % 8;
      expectInvalidCiphertext(() => openRecord(rootKey, bad, aad));
    }
  });

  it("reject truncated, empty and unknown-version records", () => {
    const record = sealRecord(rootKey, randomBytes(32), ROOT_KEY_AAD);
    for (const length of [0, 1, 13, 1 + 12 + 15, record.length - 1]) {
      expectInvalidCiphertext(() => openRecord(rootKey, record.subarray(0, length), ROOT_KEY_AAD));
    }
    const v2 = Buffer.from(record);
    v2[0] = 0x02;
    expectInvalidCiphertext(() => openRecord(rootKey, v2, ROOT_KEY_AAD));
  });

  it("seal an empty secret to a record of exactly 29 bytes that still opens", () => {
    const record = sealRecord(rootKey, new Uint8Array(0), ROOT_KEY_AAD);
    expect(record).toHaveLength(29);
    expect(openRecord(rootKey, record, ROOT_KEY_AAD)).toHaveLength(0);
  });
});
