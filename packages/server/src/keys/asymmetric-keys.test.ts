/**
 * Asymmetric keys live in the same versioned keyring as symmetric ones: each version's material is
 * its private key (PKCS#8 DER) sealed under the root key with AAD naming key id and version; the
 * keyring keeps KeyObjects, drops them on seal; rotation makes a new key pair; destruction erases.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { asymmetricKeySpecs, algorithmsFor, keySpecs, type AsymmetricKeySpec, type KeySpecInfo, type KeyUsage } from "@tessera/protocol";
import { startTestApp, type TestApp } from "../../../../test/helpers/app.js";
import { keyVersionAad, openRecord } from "../format/keyring-record.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t?.close();
});

/** A usage each spec may be created with (its first). */
const usageOf = (spec: AsymmetricKeySpec): KeyUsage => Object.keys((keySpecs[spec] as KeySpecInfo).usages)[0] as KeyUsage;

/** Node's description of what a key of each spec must be. */
const expected: Record<AsymmetricKeySpec, { type: string | undefined; details?: Record<string, unknown> }> = {
  RSA_2048: { type: "rsa", details: { modulusLength: 2048, publicExponent: 65537n } },
  RSA_3072: { type: "rsa", details: { modulusLength: 3072 } },
  RSA_4096: { type: "rsa", details: { modulusLength: 4096 } },
  ECC_NIST_P256: { type: "ec", details: { namedCurve: "prime256v1" } },
  ECC_NIST_P384: { type: "ec", details: { namedCurve: "secp384r1" } },
  ECC_NIST_P521: { type: "ec", details: { namedCurve: "secp521r1" } },
  ECC_SECG_P256K1: { type: "ec", details: { namedCurve: "secp256k1" } },
  ECC_NIST_EDWARDS25519: { type: "ed25519" },
  // OpenSSL parses an SM2 PKCS#8 into its own SM2 key type, which Node does not name.
  SM2: { type: undefined },
  ML_DSA_44: { type: "ml-dsa-44" },
  ML_DSA_65: { type: "ml-dsa-65" },
  ML_DSA_87: { type: "ml-dsa-87" },
};

/** The sealed material of each version of a key, read straight from the database. */
function storedMaterial(keyId: string): (Buffer | null)[] {
  const db = new DatabaseSync(join(t.dir, "tessera.db"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT material FROM key_versions WHERE key_id = ? ORDER BY version").all(keyId) as unknown as { material: Uint8Array | null }[];
    return rows.map((r) => (r.material === null ? null : Buffer.from(r.material)));
  } finally {
    db.close();
  }
}

async function create(name: string, keySpec: AsymmetricKeySpec, keyUsage: KeyUsage = usageOf(keySpec)) {
  const r = await t.call("POST", "/v1/keys", { name, keySpec, keyUsage });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { keyId: string; keySpec: string; keyUsage: string };
}

describe("asymmetric key versions", () => {
  it.each(asymmetricKeySpecs)("%s: the stored material is the private key as PKCS#8, sealed under the root key for its key id and version", async (spec) => {
    const key = await create(`k-${spec.toLowerCase().replaceAll("_", "-")}`, spec);
    expect(key).toMatchObject({ keySpec: spec, keyUsage: usageOf(spec) });

    const [sealed] = storedMaterial(key.keyId);
    const der = openRecord(t.app.barrier.ring().current.key, sealed!, keyVersionAad(key.keyId, 1));
    const stored = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    expect(stored.asymmetricKeyType).toBe(expected[spec].type);
    expect(stored.asymmetricKeyDetails).toMatchObject(expected[spec].details ?? {});
    // Bound to its place: the same record does not open as another version or another key.
    expect(() => openRecord(t.app.barrier.ring().current.key, sealed!, keyVersionAad(key.keyId, 2))).toThrow(expect.objectContaining({ code: "InvalidCiphertext" }));

    // The keyring holds the same key as a KeyObject and derives its public half.
    const handle = await t.app.keys.keyring.resolve(key.keyId);
    expect(handle.material(1)).toBeUndefined();
    expect(handle.privateKey(1)!.equals(stored)).toBe(true);
    const publicKey = handle.publicKey(1)!;
    expect(publicKey.der.equals(createPublicKey(stored).export({ type: "spki", format: "der" }))).toBe(true);
  });

  it("rotation makes a new key pair; the old version keeps its own", async () => {
    const key = await create("signer", "ECC_NIST_P256", "SIGN_VERIFY");
    const before = (await t.app.keys.keyring.resolve(key.keyId)).publicKey(1)!.der;
    expect((await t.call("POST", "/v1/keys/signer/rotate")).body.primaryVersion).toBe(2);
    const handle = await t.app.keys.keyring.resolve(key.keyId);
    expect(handle.publicKey(1)!.der.equals(before)).toBe(true);
    expect(handle.publicKey(2)!.der.equals(before)).toBe(false);
    expect(handle.privateKey(2)!.asymmetricKeyDetails).toMatchObject({ namedCurve: "prime256v1" });
    expect(storedMaterial(key.keyId).map((m) => m !== null)).toEqual([true, true]);
  });

  it("automatic rotation rotates asymmetric keys too", async () => {
    const r = await t.call("POST", "/v1/keys", { name: "auto", keySpec: "ECC_NIST_EDWARDS25519", keyUsage: "SIGN_VERIFY", rotationPeriodSeconds: 3600 });
    expect(r.status).toBe(201);
    t.clock.advance(3_600_000);
    expect(await t.app.jobs.rotateDue()).toHaveLength(1);
    const handle = await t.app.keys.keyring.resolve(r.body.keyId);
    expect(handle.row.primaryVersion).toBe(2);
    expect(handle.publicKey(2)!.der.equals(handle.publicKey(1)!.der)).toBe(false);
  });

  it("sealing drops every private key: a handle in use answers Sealed; after unsealing the same key is back", async () => {
    const key = await create("sealed", "RSA_2048", "ENCRYPT_DECRYPT");
    const handle = await t.app.keys.keyring.resolve(key.keyId);
    const spki = handle.publicKey(1)!.der;
    expect((await t.call("POST", "/v1/sys/seal")).status).toBe(200);
    expect(() => handle.privateKey(1)).toThrow(expect.objectContaining({ code: "Sealed" }));
    expect(() => handle.publicKey(1)).toThrow(expect.objectContaining({ code: "Sealed" }));
    await t.unseal();
    expect((await t.app.keys.keyring.resolve(key.keyId)).publicKey(1)!.der.equals(spki)).toBe(true);
  });

  it("destruction erases every version's private key", async () => {
    const key = await create("doomed", "ML_DSA_44", "SIGN_VERIFY");
    await t.call("POST", "/v1/keys/doomed/rotate");
    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    t.clock.advance(7 * 86_400_000);
    expect(await t.app.jobs.destroyDue()).toHaveLength(1);
    expect(storedMaterial(key.keyId)).toEqual([null, null]);
    const handle = await t.app.keys.keyring.resolve(key.keyId);
    expect([handle.privateKey(1), handle.privateKey(2)]).toEqual([undefined, undefined]);
  });

  it("a stored row whose spec was changed is never used as another kind of key (Internal)", async () => {
    const key = await create("tampered", "ECC_NIST_P384", "SIGN_VERIFY");
    await t.app.close();
    const db = new DatabaseSync(join(t.dir, "tessera.db"));
    db.prepare("UPDATE keys SET key_spec = 'ECC_NIST_P256' WHERE id = ?").run(key.keyId);
    db.close();
    await t.restart();
    await t.unseal();
    expect((await t.call("GET", "/v1/keys/tampered")).body.error.code).toBe("Internal");
  });
});

describe("creating keys with a spec and a usage", () => {
  it("AES_256 (Tessera's older name) creates a SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT", async () => {
    const r = await t.call("POST", "/v1/keys", { name: "old-name", keySpec: "AES_256" });
    expect(r.body).toMatchObject({ keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" });
    expect((await t.call("POST", "/v1/keys", { name: "default" })).body).toMatchObject({ keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" });
  });

  it("refuses an asymmetric key without a usage, or with one its spec does not have (InvalidInput at /keyUsage)", async () => {
    for (const body of [
      { name: "a", keySpec: "RSA_2048" },
      { name: "b", keySpec: "ECC_SECG_P256K1", keyUsage: "KEY_AGREEMENT" },
      { name: "c", keySpec: "SYMMETRIC_DEFAULT", keyUsage: "SIGN_VERIFY" },
      { name: "d", keySpec: "ML_DSA_87", keyUsage: "ENCRYPT_DECRYPT" },
    ]) {
      const r = await t.call("POST", "/v1/keys", body);
      expect([r.status, r.body.error.code, r.body.error.field], JSON.stringify(body)).toEqual([400, "InvalidInput", "/keyUsage"]);
    }
    expect((await t.call("GET", "/v1/keys")).body.keys).toEqual([]);
  });

  it("refuses derived mode for an asymmetric key", async () => {
    const r = await t.call("POST", "/v1/keys", { name: "d", keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT", derived: true });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, "InvalidInput", "/derived"]);
  });

  it("symmetric operations on an asymmetric key are InvalidKeyUsage", async () => {
    await create("rsa", "RSA_2048", "ENCRYPT_DECRYPT");
    expect(algorithmsFor("RSA_2048", "ENCRYPT_DECRYPT")).not.toContain("SYMMETRIC_DEFAULT");
    for (const [url, body] of [
      ["/v1/keys/rsa/encrypt", { plaintext: "aGk=" }],
      ["/v1/keys/rsa/generate-data-key", {}],
      ["/v1/keys/rsa/generate-data-key-without-plaintext", {}],
      ["/v1/keys/rsa/derive", { context: { a: "b" } }],
    ] as const) {
      const r = await t.call("POST", url, body);
      expect([r.status, r.body.error.code], url).toEqual([400, "InvalidKeyUsage"]);
    }
  });
});
