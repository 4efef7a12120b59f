/**
 * SM4 keys: 16-byte material, encrypted as format v3 (SM4-GCM, RFC 8998) through every symmetric
 * operation — Encrypt, Decrypt, GenerateDataKey, ReEncrypt in both directions with AES keys, Derive
 * (HKDF-SM3) — with rotation, tampering and the wall between AES and SM4 ciphertexts.
 */
import { hkdfSync } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeContext, parseCiphertext } from "@tessera/protocol";
import { b64, startTestApp, type TestApp } from "../../../../test/helpers/app.js";
import { sm4GcmOpen } from "../crypto/index.js";
import { keyVersionAad } from "../format/keyring-record.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t?.close();
});

async function create(name: string, body: Record<string, unknown> = { keySpec: "SM4" }) {
  const r = await t.call("POST", "/v1/keys", { name, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { keyId: string; keySpec: string; keyUsage: string };
}

/** A version's material, opened from the database with the root key (what only the server can do). */
function material(keyId: string, version: number): Buffer {
  const db = new DatabaseSync(join(t.dir, "tessera.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT material FROM key_versions WHERE key_id = ? AND version = ?").get(keyId, version) as { material: Uint8Array };
    return t.app.barrier.openSecret(Buffer.from(row.material), keyVersionAad(keyId, version));
  } finally {
    db.close();
  }
}

const invalid = { status: 400, code: "InvalidCiphertext" };
const codeOf = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });

describe("SM4 keys", () => {
  it("are created for ENCRYPT_DECRYPT with 16 bytes of material, and refuse derived mode and other usages", async () => {
    const key = await create("sm4-a");
    expect(key).toMatchObject({ keySpec: "SM4", keyUsage: "ENCRYPT_DECRYPT" });
    expect(material(key.keyId, 1)).toHaveLength(16);
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "sm4-d", keySpec: "SM4", derived: true }))).toEqual({ status: 400, code: "InvalidInput" });
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "sm4-s", keySpec: "SM4", keyUsage: "SIGN_VERIFY" }))).toEqual({ status: 400, code: "InvalidInput" });
  });

  it("encrypt writes format v3 (SM4-GCM) that opens with the version's material and the header ‖ context as AAD", async () => {
    const key = await create("sm4-b");
    const context = { app: "billing" };
    const r = await t.call("POST", "/v1/keys/sm4-b/encrypt", { plaintext: b64("国密 SM4 plaintext"), context });
    expect(r.status).toBe(200);
    const bytes = Buffer.from(r.body.ciphertext, "base64");
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0x54, 0x03, 0x05]);
    const parsed = parseCiphertext(bytes);
    expect(parsed).toMatchObject({ formatVersion: 3, algorithm: "SM4_GCM", keyId: key.keyId, keyVersion: 1 });
    expect(parsed.nonce).toHaveLength(12);
    // Independently of the envelope code: SM4-GCM under the stored material, AAD = header ‖ encodeContext.
    const aad = Buffer.concat([parsed.header, encodeContext(context)]);
    expect(sm4GcmOpen(material(key.keyId, 1), parsed.nonce, parsed.sealed, aad).toString()).toBe("国密 SM4 plaintext");
    const d = await t.call("POST", "/v1/decrypt", { ciphertext: r.body.ciphertext, context });
    expect(d.status).toBe(200);
    expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("国密 SM4 plaintext");
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: r.body.ciphertext, context: { app: "other" } }))).toEqual(invalid);
  });

  it("refuses a ciphertext with any byte changed", async () => {
    await create("sm4-c");
    const { body } = await t.call("POST", "/v1/keys/sm4-c/encrypt", { plaintext: b64("x") });
    const bytes = Buffer.from(body.ciphertext, "base64");
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i]! ^= 0x01;
      const r = await t.call("POST", "/v1/decrypt", { ciphertext: bad.toString("base64") });
      // A changed key id names a key that does not exist: still InvalidCiphertext, as for every tampering.
      expect(codeOf(r), `byte ${i}`).toEqual(invalid);
    }
  });

  it("an AES key never opens an SM4 ciphertext, nor an SM4 key an AES one, even with the header rewritten to name it", async () => {
    const sm4 = await create("sm4-e");
    const aes = await create("aes-e", {});
    const sm4Ct = Buffer.from((await t.call("POST", "/v1/keys/sm4-e/encrypt", { plaintext: b64("a") })).body.ciphertext, "base64");
    const aesCt = Buffer.from((await t.call("POST", "/v1/keys/aes-e/encrypt", { plaintext: b64("a") })).body.ciphertext, "base64");
    const renamed = (ct: Buffer, keyId: string) => Buffer.concat([ct.subarray(0, 3), Buffer.from(keyId.replaceAll("-", ""), "hex"), ct.subarray(19)]);
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: renamed(sm4Ct, aes.keyId).toString("base64") }))).toEqual(invalid);
    expect(codeOf(await t.call("POST", "/v1/decrypt", { ciphertext: renamed(aesCt, sm4.keyId).toString("base64") }))).toEqual(invalid);
  });

  it("rotation: new ciphertexts use version 2, version 1's still decrypt", async () => {
    await create("sm4-r");
    const old = (await t.call("POST", "/v1/keys/sm4-r/encrypt", { plaintext: b64("v1") })).body;
    expect((await t.call("POST", "/v1/keys/sm4-r/rotate")).status).toBe(200);
    const now = (await t.call("POST", "/v1/keys/sm4-r/encrypt", { plaintext: b64("v2") })).body;
    expect([old.keyVersion, now.keyVersion]).toEqual([1, 2]);
    for (const [c, p] of [[old.ciphertext, "v1"], [now.ciphertext, "v2"]]) {
      const d = await t.call("POST", "/v1/decrypt", { ciphertext: c });
      expect([d.body.keyVersion, Buffer.from(d.body.plaintext, "base64").toString()]).toEqual([c === old.ciphertext ? 1 : 2, p]);
    }
  });

  it("GenerateDataKey wraps the data key under SM4-GCM; ReEncrypt moves ciphertexts between SM4 and AES keys both ways", async () => {
    await create("sm4-g");
    await create("aes-g", {});
    const dk = await t.call("POST", "/v1/keys/sm4-g/generate-data-key", { numberOfBytes: 16 });
    expect(dk.status).toBe(200);
    expect(parseCiphertext(Buffer.from(dk.body.ciphertext, "base64")).algorithm).toBe("SM4_GCM");
    const toAes = await t.call("POST", "/v1/reencrypt", { ciphertext: dk.body.ciphertext, destinationKeyId: "aes-g" });
    expect(parseCiphertext(Buffer.from(toAes.body.ciphertext, "base64")).algorithm).toBe("XAES_256_GCM");
    const back = await t.call("POST", "/v1/reencrypt", { ciphertext: toAes.body.ciphertext, destinationKeyId: "sm4-g" });
    expect(parseCiphertext(Buffer.from(back.body.ciphertext, "base64")).algorithm).toBe("SM4_GCM");
    const d = await t.call("POST", "/v1/decrypt", { ciphertext: back.body.ciphertext });
    expect(d.body.plaintext).toBe(dk.body.plaintext);
  });

  it("Derive uses HKDF-SM3 for an SM4 key (HKDF-SHA256 for AES keys), with the same info", async () => {
    const key = await create("sm4-k");
    const context = { vm: "vm-1" };
    const r = await t.call("POST", "/v1/keys/sm4-k/derive", { context, length: 32 });
    expect(r.status).toBe(200);
    const info = Buffer.concat([Buffer.from("tessera/v1/derive"), encodeContext(context)]);
    const expected = Buffer.from(hkdfSync("sm3", material(key.keyId, 1), Buffer.alloc(0), info, 32));
    expect(r.body.derivedKey).toBe(expected.toString("base64"));
  });
});
