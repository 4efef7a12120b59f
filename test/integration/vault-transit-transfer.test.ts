/**
 * Transit trim, key backup/restore and BYOK import (docs/vault-compatibility.md, "Trim, backup and
 * import"), in process: Vault's semantics, the native routes, refusals that change nothing, and a
 * client that wraps exactly as Vault's documentation says (RSA-OAEP + `id-aes256-wrap-pad`, with
 * node:crypto and with the `openssl` command line).
 */
import { constants, createCipheriv, createHmac, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { opensslIn } from "../helpers/openssl.js";

let t: TestApp;
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

async function vault(method: string, path: string, body?: unknown, token: string | null = t.rootToken) {
  const res = await t.app.http.inject({
    method: method as "GET",
    url: `/v1/transit/${path}`,
    headers: { ...(token !== null && { "x-vault-token": token }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined };
}

/** Vault's BYOK wrapping: RSA-OAEP(`hash`) of a fresh AES-256 key ‖ AES-KWP (RFC 5649) of the target key. */
function wrapForImport(wrappingKeyPem: string, target: Buffer, hash = "sha256"): string {
  const ephemeral = randomBytes(32);
  const kwp = createCipheriv("id-aes256-wrap-pad", ephemeral, Buffer.from("a65959a6", "hex"));
  const wrappedKey = Buffer.concat([kwp.update(target), kwp.final()]);
  const encrypted = publicEncrypt({ key: createPublicKey(wrappingKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ephemeral);
  return Buffer.concat([encrypted, wrappedKey]).toString("base64");
}

const auditActions = async () => ((await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { action: string; outcome: string }[]).map((r) => `${r.action}:${r.outcome}`);

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe("trim", () => {
  it("destroys versions below min_available_version for good; their ciphertexts then fail as destroyed", async () => {
    expect((await vault("POST", "keys/trimmed", {})).status).toBe(200);
    const v1 = (await vault("POST", "encrypt/trimmed", { plaintext: b64("one") })).body.data.ciphertext as string;
    await vault("POST", "keys/trimmed/rotate");
    await vault("POST", "keys/trimmed/rotate");
    // Above min_decryption_version (1): refused, nothing destroyed.
    const high = await vault("POST", "keys/trimmed/trim", { min_available_version: 2 });
    expect(high.status).toBe(400);
    expect(high.body.errors[0]).toContain("min decryption version");
    expect((await vault("POST", "decrypt/trimmed", { ciphertext: v1 })).status).toBe(200);

    await vault("POST", "keys/trimmed/config", { min_decryption_version: 3 });
    const trimmed = await vault("POST", "keys/trimmed/trim", { min_available_version: 3 });
    expect(trimmed.status).toBe(200);
    expect(trimmed.body.data).toMatchObject({ min_available_version: 3, min_decryption_version: 3, latest_version: 3 });
    expect(Object.keys(trimmed.body.data.keys)).toEqual(["3"]);
    // Lowering min_decryption_version again does not bring the material back.
    await vault("POST", "keys/trimmed/config", { min_decryption_version: 1 });
    const old = await vault("POST", "decrypt/trimmed", { ciphertext: v1 });
    expect(old.status).toBe(400);
    expect(old.body.errors[0]).toContain("has been destroyed");
    const versions = (await t.call("GET", "/v1/keys/trimmed/versions")).body.versions as { version: number; state: string }[];
    expect(versions.map((v) => v.state)).toEqual(["Destroyed", "Destroyed", "Enabled"]);
    // The minimum cannot go down, and must be positive.
    expect((await vault("POST", "keys/trimmed/trim", { min_available_version: 1 })).body.errors[0]).toContain("cannot decrease");
    expect((await vault("POST", "keys/trimmed/trim", { min_available_version: 0 })).status).toBe(400);
    expect((await vault("POST", "keys/trimmed/trim", { min_available_version: "x" })).status).toBe(400);
    expect(await auditActions()).toEqual(expect.arrayContaining(["kms:TrimKeyVersions:intent", "kms:TrimKeyVersions:allowed"]));
  });

  it("the native route validates its body and trims the same way", async () => {
    await t.call("POST", "/v1/keys", { name: "native-trim" });
    await t.call("POST", "/v1/keys/native-trim/rotate");
    expect((await t.call("POST", "/v1/keys/native-trim/trim", { minAvailableVersion: 0 })).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/keys/native-trim/trim", { minAvailableVersion: 2, extra: 1 })).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/keys/native-trim/trim", { minAvailableVersion: 2 })).body.error.code).toBe("InvalidInput");
    await t.call("POST", "/v1/keys/native-trim/min-decryption-version", { minDecryptionVersion: 2 });
    const r = await t.call("POST", "/v1/keys/native-trim/trim", { minAvailableVersion: 2 });
    expect(r.status).toBe(200);
    expect((await t.call("GET", "/v1/keys/native-trim/versions")).body.versions.map((v: { state: string }) => v.state)).toEqual(["Destroyed", "Enabled"]);
  });
});

describe("backup and restore", () => {
  it("a backup is sealed: it never holds the key's material, and restores a deleted key with its versions", async () => {
    const wrappingKey = (await vault("GET", "wrapping_key")).body.data.public_key as string;
    const material = randomBytes(32);
    expect((await vault("POST", "keys/backed/import", { type: "hmac", ciphertext: wrapForImport(wrappingKey, material) })).status).toBe(200);
    const mac = (await vault("POST", "hmac/backed", { input: b64("m") })).body.data.hmac as string;
    const backup = (await vault("GET", "backup/backed")).body.data.backup as string;
    const blob = Buffer.from(backup, "base64");
    expect(blob.subarray(0, 4).toString()).toBe("TKBK");
    expect(blob.includes(material)).toBe(false);
    expect(blob.includes(Buffer.from(material.toString("base64")))).toBe(false);

    // Vault's delete (Tessera: pending deletion), then destruction once the window passed.
    await vault("POST", "keys/backed/config", { deletion_allowed: true });
    expect((await vault("DELETE", "keys/backed")).status).toBe(204);
    t.clock.advance(8 * 86_400_000);
    await t.app.scheduler.runOnce("destroy");
    expect((await t.call("GET", "/v1/keys/backed")).body.state).toBe("Destroyed");

    expect((await vault("POST", "restore", { backup })).status).toBe(204);
    expect((await t.call("GET", "/v1/keys/backed")).body.state).toBe("Enabled");
    expect((await vault("POST", "verify/backed", { input: b64("m"), hmac: mac })).body.data.valid).toBe(true);
    expect(await auditActions()).toEqual(expect.arrayContaining(["kms:BackupKey:allowed", "kms:RestoreKey:intent", "kms:RestoreKey:allowed"]));
  });

  it("refuses a live key without force, another key's name, and a tampered backup — changing nothing", async () => {
    await vault("POST", "keys/live", {});
    const backup = (await vault("GET", "backup/live")).body.data.backup as string;
    await vault("POST", "keys/live/rotate");
    const before = (await t.call("GET", "/v1/keys/live/versions")).body;

    const live = await vault("POST", "restore/live", { backup });
    expect(live.status).toBe(400);
    expect(live.body.errors[0]).toContain("restore with force");
    // Forced: the key has a version newer than the backup, whose number would be reused.
    expect((await vault("POST", "restore/live", { backup, force: true })).body.errors[0]).toContain("newer than the backup");
    await vault("POST", "keys/other", {});
    expect((await vault("POST", "restore/other", { backup, force: true })).body.errors[0]).toContain("another key is named other");

    const blob = Buffer.from(backup, "base64");
    for (const at of [5, 20, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[at]! ^= 0x01;
      const r = await t.call("POST", "/v1/keys/restore", { backup: tampered.toString("base64"), force: true });
      expect(r.body.error.code, `byte ${at}`).toBe("InvalidCiphertext");
    }
    expect((await t.call("POST", "/v1/keys/restore", { backup: b64("not a backup at all") })).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/keys/restore", { backup: "!!" })).body.error.code).toBe("InvalidInput");
    expect((await t.call("GET", "/v1/keys/live/versions")).body).toEqual(before);
  });

  it("forced restore over a live key of the same versions brings its settings back (native route and client shape)", async () => {
    await t.call("POST", "/v1/keys", { name: "settings", description: "first" });
    const { backup, keyId } = (await t.call("GET", "/v1/keys/settings/backup")).body;
    await t.call("PATCH", "/v1/keys/settings", { description: "changed" });
    await t.call("POST", "/v1/keys/settings/disable");
    const r = await t.call("POST", "/v1/keys/restore", { backup, force: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ keyId, name: "settings", description: "first", state: "Enabled" });
  });

  it("does not open in a cluster with another root", async () => {
    await vault("POST", "keys/portable", {});
    const backup = (await vault("GET", "backup/portable")).body.data.backup as string;
    const other = await startTestApp();
    try {
      const r = await other.call("POST", "/v1/keys/restore", { backup });
      expect(r.body.error.code).toBe("InvalidCiphertext");
    } finally {
      await other.close();
    }
  });
});

describe("import through the wrapping key", () => {
  it("imports an HMAC key wrapped by node:crypto and adds a version with import_version; the material is what was sent", async () => {
    const wrappingKey = (await vault("GET", "wrapping_key")).body.data.public_key as string;
    expect(createPublicKey(wrappingKey).asymmetricKeyDetails?.modulusLength).toBe(4096);
    // Long-lived: the same key on every read.
    expect((await vault("GET", "wrapping_key")).body.data.public_key).toBe(wrappingKey);
    const first = randomBytes(32);
    const imported = await vault("POST", "keys/byok-mac/import", { type: "hmac", ciphertext: wrapForImport(wrappingKey, first) });
    expect(imported.status).toBe(200);
    expect(imported.body.data).toMatchObject({ type: "hmac", imported_key: true, latest_version: 1 });
    const mac = (await vault("POST", "hmac/byok-mac", { input: b64("data") })).body.data.hmac as string;
    expect(mac).toBe(`vault:v1:${createHmac("sha256", first).update("data").digest("base64")}`);

    const second = randomBytes(32);
    const v2 = await vault("POST", "keys/byok-mac/import_version", { ciphertext: wrapForImport(wrappingKey, second, "sha512"), hash_function: "SHA512" });
    expect(v2.body.data.latest_version).toBe(2);
    expect((await vault("POST", "hmac/byok-mac", { input: b64("data") })).body.data.hmac).toBe(`vault:v2:${createHmac("sha256", second).update("data").digest("base64")}`);
  });

  it("imports an AES key wrapped by the openssl command line (SHA-1 OAEP) and an ECDSA key (PKCS#8)", async () => {
    const wrappingKey = (await vault("GET", "wrapping_key")).body.data.public_key as string;
    const ephemeral = randomBytes(32);
    writeFileSync(join(t.dir, "wrapping.pem"), wrappingKey);
    writeFileSync(join(t.dir, "ephemeral.bin"), ephemeral);
    writeFileSync(join(t.dir, "target.bin"), randomBytes(32));
    const rsa = opensslIn(t.dir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "wrapping.pem", "-in", "ephemeral.bin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-pkeyopt", "rsa_mgf1_md:sha1");
    const kwp = opensslIn(t.dir, "enc", "-id-aes256-wrap-pad", "-K", ephemeral.toString("hex"), "-iv", "A65959A6", "-in", "target.bin");
    const r = await vault("POST", "keys/byok-aes/import", { ciphertext: Buffer.concat([rsa, kwp]).toString("base64"), hash_function: "SHA1" });
    expect(r.status).toBe(200);
    const ct = (await vault("POST", "encrypt/byok-aes", { plaintext: b64("hi") })).body.data.ciphertext;
    expect((await vault("POST", "decrypt/byok-aes", { ciphertext: ct })).body.data.plaintext).toBe(b64("hi"));

    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
    expect((await vault("POST", "keys/byok-ec/import", { type: "ecdsa-p256", ciphertext: wrapForImport(wrappingKey, pkcs8) })).status).toBe(200);
    const sig = (await vault("POST", "sign/byok-ec", { input: b64("msg") })).body.data.signature as string;
    expect(verify("sha256", Buffer.from("msg"), publicKey, Buffer.from(sig.split(":")[2]!, "base64"))).toBe(true);
  });

  it("refuses tampered or wrong input with one error and creates no key", async () => {
    const wrappingKey = (await vault("GET", "wrapping_key")).body.data.public_key as string;
    const good = Buffer.from(wrapForImport(wrappingKey, randomBytes(32)), "base64");
    for (const at of [0, 520, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x80;
      const r = await vault("POST", "keys/never/import", { ciphertext: bad.toString("base64") });
      expect(r.status, `byte ${at}`).toBe(400);
      expect(r.body.errors[0]).toMatch(/ciphertext/i);
    }
    // The wrong OAEP hash, the wrong length for the type, an unknown hash, a public key only, auto-rotation.
    expect((await vault("POST", "keys/never/import", { ciphertext: good.toString("base64"), hash_function: "SHA384" })).status).toBe(400);
    expect((await vault("POST", "keys/never/import", { type: "hmac", key_size: 64, ciphertext: good.toString("base64") })).status).toBe(400);
    expect((await vault("POST", "keys/never/import", { ciphertext: good.toString("base64"), hash_function: "MD5" })).status).toBe(400);
    expect((await vault("POST", "keys/never/import", { ciphertext: good.toString("base64"), public_key: "x" })).status).toBe(400);
    expect((await vault("POST", "keys/never/import", { ciphertext: good.toString("base64"), auto_rotate_period: "24h" })).status).toBe(400);
    expect((await vault("POST", "keys/never/import", { ciphertext: "not base64!" })).status).toBe(400);
    expect((await vault("GET", "keys/never")).status).toBe(404);
    // import_version only on imported keys.
    await vault("POST", "keys/generated", {});
    expect((await vault("POST", "keys/generated/import_version", { ciphertext: good.toString("base64") })).body.errors[0]).toContain("was not imported");
    expect((await t.call("GET", "/v1/keys/generated/versions")).body.versions).toHaveLength(1);
  });

  it("authorises import as kms:CreateKey and kms:ImportKeyMaterial on the new key", async () => {
    const wrappingKey = (await vault("GET", "wrapping_key")).body.data.public_key as string;
    const token = (await t.call("POST", "/v1/auth/tokens", { ttlSeconds: 600, displayName: "c", grants: [{ actions: ["kms:CreateKey", "kms:GetWrappingKey", "kms:DescribeKey"], resources: ["*"] }] })).body.token as string;
    expect((await vault("GET", "wrapping_key", undefined, token)).status).toBe(200);
    const r = await vault("POST", "keys/denied/import", { ciphertext: wrapForImport(wrappingKey, randomBytes(32)) }, token);
    expect(r.status).toBe(403);
    expect((await vault("GET", "keys/denied")).status).toBe(404);
  });
});
