/**
 * The key types and options Vault's transit has and Tessera now serves on every API: AES_128 and
 * CHACHA20_POLY1305 keys (format v4), convergent (deterministic) keys, and encryption with an older
 * key version above the key's minEncryptionVersion — through the native API, with the stored material
 * opened independently (node:crypto) to check the wire bytes.
 */
import { createDecipheriv, type CipherGCMTypes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeContext, parseCiphertext } from "@tessera/protocol";
import { b64, startTestApp, type TestApp } from "../../../../test/helpers/app.js";
import { keyVersionAad } from "../format/keyring-record.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const codeOf = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });
const invalidInput = { status: 400, code: "InvalidInput" };

async function create(name: string, body: Record<string, unknown>) {
  const r = await t.call("POST", "/v1/keys", { name, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { keyId: string; keySpec: string; keyUsage: string; derived: boolean; convergent: boolean; minEncryptionVersion: number };
}

function material(keyId: string, version: number): Buffer {
  const db = new DatabaseSync(join(t.dir, "tessera.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT material FROM key_versions WHERE key_id = ? AND version = ?").get(keyId, version) as { material: Uint8Array };
    return t.app.barrier.openSecret(Buffer.from(row.material), keyVersionAad(keyId, version));
  } finally {
    db.close();
  }
}

function independentOpen(cipher: string, key: Buffer, ciphertext: Buffer, context: Record<string, string>): string {
  const p = parseCiphertext(ciphertext);
  const d = createDecipheriv(cipher as CipherGCMTypes, key, p.nonce, { authTagLength: 16 });
  d.setAAD(Buffer.concat([p.header, encodeContext(context)]));
  d.setAuthTag(p.sealed.subarray(-16));
  return Buffer.concat([d.update(p.sealed.subarray(0, -16)), d.final()]).toString();
}

describe.each([
  ["AES_128", "aes-128-gcm", 16, "AES_128_GCM"],
  ["CHACHA20_POLY1305", "chacha20-poly1305", 32, "CHACHA20_POLY1305"],
] as const)("%s keys", (spec, cipher, length, algorithm) => {
  it("encrypt format v4 that opens with the version's material, decrypt, data keys, re-encrypt to and from AES-256, tampering refused", async () => {
    const key = await create(`k-${spec}`, { keySpec: spec });
    expect(key).toMatchObject({ keySpec: spec, keyUsage: "ENCRYPT_DECRYPT", derived: false, convergent: false, minEncryptionVersion: 0 });
    expect(material(key.keyId, 1)).toHaveLength(length);
    const context = { vm: "web-1" };
    const e = await t.call("POST", `/v1/keys/k-${spec}/encrypt`, { plaintext: b64("transit plaintext"), context });
    expect(e.status).toBe(200);
    const bytes = Buffer.from(e.body.ciphertext, "base64");
    expect(parseCiphertext(bytes)).toMatchObject({ formatVersion: 4, algorithm, keyId: key.keyId, keyVersion: 1 });
    expect(independentOpen(cipher, material(key.keyId, 1), bytes, context)).toBe("transit plaintext");
    const d = await t.call("POST", "/v1/decrypt", { ciphertext: e.body.ciphertext, context });
    expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("transit plaintext");

    const bad = Buffer.from(bytes);
    bad[bad.length - 1]! ^= 1;
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: bad.toString("base64"), context }))).toEqual({ status: 400, code: "InvalidCiphertext" });
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: e.body.ciphertext, context: { vm: "web-2" } }))).toEqual({ status: 400, code: "InvalidCiphertext" });

    const dk = await t.call("POST", `/v1/keys/k-${spec}/generate-data-key`, { keySpec: "AES_256" });
    expect(dk.status).toBe(200);
    const opened = await t.call("POST", "/v1/decrypt", { ciphertext: dk.body.ciphertext });
    expect(opened.body.plaintext).toBe(dk.body.plaintext);

    await t.call("POST", "/v1/keys", { name: `aes-for-${spec}` });
    const toAes = await t.call("POST", "/v1/reencrypt", { ciphertext: e.body.ciphertext, sourceContext: context, destinationKeyId: `aes-for-${spec}` });
    expect(toAes.status, JSON.stringify(toAes.body)).toBe(200);
    expect(parseCiphertext(Buffer.from(toAes.body.ciphertext, "base64")).algorithm).toBe("XAES_256_GCM");
    const back = await t.call("POST", "/v1/reencrypt", { ciphertext: toAes.body.ciphertext, destinationKeyId: `k-${spec}`, destinationContext: context });
    expect(parseCiphertext(Buffer.from(back.body.ciphertext, "base64")).algorithm).toBe(algorithm);
  });

  it("derived mode needs a context and writes the _DERIVED algorithm", async () => {
    await create(`d-${spec}`, { keySpec: spec, derived: true });
    expect(codeOf(await t.call("POST", `/v1/keys/d-${spec}/encrypt`, { plaintext: b64("x") }))).toEqual(invalidInput);
    const e = await t.call("POST", `/v1/keys/d-${spec}/encrypt`, { plaintext: b64("x"), context: { tenant: "a" } });
    expect(parseCiphertext(Buffer.from(e.body.ciphertext, "base64")).algorithm).toBe(`${algorithm}_DERIVED`);
  });
});

describe("convergent keys", () => {
  it("are a creation-time property that needs derived mode on AES-256, AES-128 or ChaCha20 keys; refusals create nothing", async () => {
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "c-no-derived", convergent: true }))).toEqual(invalidInput);
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "c-sm4", keySpec: "SM4", derived: true, convergent: true }))).toEqual(invalidInput);
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "c-hmac", keySpec: "HMAC_256", derived: true, convergent: true }))).toEqual(invalidInput);
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "c-bad", derived: true, convergent: "yes" }))).toEqual(invalidInput);
    expect((await t.call("GET", "/v1/keys/c-no-derived")).status).toBe(404);
    const k = await create("c-aes", { derived: true, convergent: true });
    expect(k).toMatchObject({ derived: true, convergent: true });
    expect((await t.call("GET", "/v1/keys/c-aes")).body).toMatchObject({ convergent: true });
  });

  it.each([
    ["SYMMETRIC_DEFAULT", "AES_256_GCM_CONVERGENT"],
    ["AES_128", "AES_128_GCM_CONVERGENT"],
    ["CHACHA20_POLY1305", "CHACHA20_POLY1305_CONVERGENT"],
  ] as const)("%s: same plaintext and context → same ciphertext; another context → another; decrypts; tampering refused", async (spec, algorithm) => {
    await create(`conv-${spec}`, { keySpec: spec, derived: true, convergent: true });
    const enc = async (plaintext: string, context: Record<string, string>) =>
      (await t.call("POST", `/v1/keys/conv-${spec}/encrypt`, { plaintext: b64(plaintext), context })).body.ciphertext as string;
    const a = await enc("4111 1111 1111 1111", { tenant: "a" });
    expect(parseCiphertext(Buffer.from(a, "base64")).algorithm).toBe(algorithm);
    expect(await enc("4111 1111 1111 1111", { tenant: "a" })).toBe(a);
    expect(await enc("4111 1111 1111 1111", { tenant: "b" })).not.toBe(a);
    expect(await enc("4111 1111 1111 1112", { tenant: "a" })).not.toBe(a);
    const d = await t.call("POST", "/v1/decrypt", { ciphertext: a, context: { tenant: "a" } });
    expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("4111 1111 1111 1111");
    const bad = Buffer.from(a, "base64");
    bad[30]! ^= 0x80; // in the nonce
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: bad.toString("base64"), context: { tenant: "a" } }))).toEqual({ status: 400, code: "InvalidCiphertext" });
  });
});

describe("encrypting with an older version (keyVersion, minEncryptionVersion)", () => {
  it("encrypts with any version from minEncryptionVersion to the primary, refuses others with a typed error that changes nothing", async () => {
    const k = await create("ver", {});
    await t.call("POST", "/v1/keys/ver/rotate");
    await t.call("POST", "/v1/keys/ver/rotate");
    const enc = (body: Record<string, unknown>) => t.call("POST", "/v1/keys/ver/encrypt", { plaintext: b64("v"), ...body });
    const one = await enc({ keyVersion: 1 });
    expect(one.body.keyVersion).toBe(1);
    expect(parseCiphertext(Buffer.from(one.body.ciphertext, "base64")).keyVersion).toBe(1);
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: one.body.ciphertext })).body.keyVersion).toBe(1);
    expect((await enc({})).body.keyVersion).toBe(3);
    expect(codeOf(await enc({ keyVersion: 4 }))).toEqual(invalidInput);
    expect(codeOf(await enc({ keyVersion: 0 }))).toEqual(invalidInput);
    expect(codeOf(await enc({ keyVersion: "1" }))).toEqual(invalidInput);

    // The floor: any existing version, never above the primary; 0 removes it.
    expect(codeOf(await t.call("POST", "/v1/keys/ver/min-encryption-version", { minEncryptionVersion: 4 }))).toEqual(invalidInput);
    expect(codeOf(await t.call("POST", "/v1/keys/ver/min-encryption-version", { minEncryptionVersion: -1 }))).toEqual(invalidInput);
    expect((await t.call("GET", "/v1/keys/ver")).body).toMatchObject({ minEncryptionVersion: 0 });
    const set = await t.call("POST", "/v1/keys/ver/min-encryption-version", { minEncryptionVersion: 2 });
    expect(set.body).toMatchObject({ keyId: k.keyId, minEncryptionVersion: 2 });
    expect(codeOf(await enc({ keyVersion: 1 }))).toEqual(invalidInput);
    expect((await enc({ keyVersion: 2 })).body.keyVersion).toBe(2);
    // A version below the floor still decrypts: minEncryptionVersion is not minDecryptionVersion.
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: one.body.ciphertext })).status).toBe(200);
    // minDecryptionVersion may not pass minEncryptionVersion (Vault's rule), nor the reverse.
    expect(codeOf(await t.call("POST", "/v1/keys/ver/min-decryption-version", { minDecryptionVersion: 3 }))).toEqual(invalidInput);

    // A disabled version is refused with the catalogue code; data keys and re-encryption take a version too.
    expect((await t.call("POST", "/v1/keys/ver/versions/2/disable")).status).toBe(200);
    expect(codeOf(await enc({ keyVersion: 2 }))).toEqual({ status: 409, code: "Disabled" });
    expect((await t.call("POST", "/v1/keys/ver/versions/2/enable")).status).toBe(200);
    const dk = await t.call("POST", "/v1/keys/ver/generate-data-key-without-plaintext", { keyVersion: 2 });
    expect(dk.body.keyVersion).toBe(2);
    const re = await t.call("POST", "/v1/reencrypt", { ciphertext: one.body.ciphertext, destinationKeyVersion: 2 });
    expect([re.body.sourceKeyVersion, re.body.keyVersion]).toEqual([1, 2]);
    expect(codeOf(await t.call("POST", "/v1/reencrypt", { ciphertext: one.body.ciphertext, destinationKeyVersion: 1 }))).toEqual(invalidInput);
    expect((await t.call("POST", "/v1/keys/ver/min-encryption-version", { minEncryptionVersion: 0 })).body.minEncryptionVersion).toBe(0);

    // The audit record names the version used, as for every encryption.
    const records = (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { action: string; outcome: string; keyVersion?: number }[];
    const encrypts = records.filter((r) => r.action === "kms:Encrypt" && r.outcome === "allowed").map((r) => r.keyVersion);
    expect(encrypts).toContain(1);
    expect(encrypts).toContain(2);
  });

  it("refuses keyVersion for asymmetric encryption", async () => {
    await create("rsa-enc", { keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" });
    const r = await t.call("POST", "/v1/keys/rsa-enc/encrypt", { plaintext: b64("x"), encryptionAlgorithm: "RSAES_OAEP_SHA_256", keyVersion: 1 });
    expect(codeOf(r)).toEqual(invalidInput);
  });
});
