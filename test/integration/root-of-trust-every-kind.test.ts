/**
 * Every kind of sealed data — a key of every key spec (symmetric material and private keys), access
 * key secrets, the CA key, the audit keys, the Vault API's transit wrapping key — is re-sealed by rotate-root and carried by a backup:
 * after a rotation the node opens all of it under the new root alone; a backup (taken before or after
 * the rotation) holds none of it in clear and restores all of it into a fresh node. A key spec added
 * to protocol's table is covered here without a change.
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySpecNames, keySpecs, type KeySpec, type KeyUsage } from "@tessera/protocol";
import { ManualClock, SqliteStore, buildApp, type TesseraApp } from "@tessera/server";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "tessera-every-kind-"));
const nameOf = (spec: KeySpec) => `k-${spec.toLowerCase().replaceAll("_", "-")}`;
/** What each key's version 1 holds in clear: the symmetric material, or the private key as PKCS#8 DER. */
const secrets = new Map<string, Buffer>();
let accessKey: { accessKeyId: string; secretAccessKey: string };
let caPem = "";
let wrappingKeyPem = "";
const wrappingKey = async (app: TesseraApp) =>
  JSON.parse((await app.http.inject({ method: "GET", url: "/v1/transit/wrapping_key", headers: { "x-vault-token": t.rootToken } })).body).data.public_key as string;
/** An import through the wrapping key: only its private key (sealed under the root) unwraps it. */
async function importsWith(app: TesseraApp, name: string): Promise<number> {
  const ephemeral = randomBytes(32);
  const kwp = createCipheriv("id-aes256-wrap-pad", ephemeral, Buffer.from("a65959a6", "hex"));
  const rsa = publicEncrypt({ key: createPublicKey(wrappingKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, ephemeral);
  const ciphertext = Buffer.concat([rsa, kwp.update(randomBytes(32)), kwp.final()]).toString("base64");
  return (await app.http.inject({ method: "POST", url: `/v1/transit/keys/${name}/import`, headers: { "x-vault-token": t.rootToken }, payload: JSON.stringify({ ciphertext }) })).statusCode;
}
/** The audit HMAC of a value: the same answer means the same (sealed) audit HMAC key. */
let auditHmac = "";
const hmacOf = async (call: (m: string, u: string, b?: unknown) => Promise<{ body: { hmac: string } }>) => (await call("POST", "/v1/audit/hash", { value: "4111111111111111" })).body.hmac;
let backupBefore: Buffer;
let backupAfter: Buffer;

async function secretOf(app: TesseraApp, name: string): Promise<Buffer> {
  const handle = await app.keys.keyring.resolve(name);
  const material = handle.material(1);
  if (material !== undefined) return Buffer.from(material);
  return handle.privateKey(1)!.export({ format: "der", type: "pkcs8" });
}

async function takeBackup(): Promise<Buffer> {
  const res = await t.app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": t.rootToken } });
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
}

const sealRoots = () => (t.app.barrier.record as unknown as { escrow: { roots: { id: string }[] } }).escrow.roots.map((r) => r.id);

beforeAll(async () => {
  t = await startTestApp({ shares: 3, threshold: 2 });
  for (const spec of keySpecNames) {
    const keyUsage = Object.keys(keySpecs[spec].usages)[0] as KeyUsage;
    const r = await t.call("POST", "/v1/keys", { name: nameOf(spec), keySpec: spec, keyUsage });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    secrets.set(nameOf(spec), await secretOf(t.app, nameOf(spec)));
  }
  expect((await t.call("PUT", "/v1/policies/app", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["*"] }] })).status).toBe(200);
  expect((await t.call("PUT", "/v1/roles/app", { policies: ["app"] })).status).toBe(200);
  accessKey = (await t.call("POST", "/v1/auth/access-keys", { role: "app" })).body;
  caPem = await t.app.ca.certificate();
  wrappingKeyPem = await wrappingKey(t.app);
  auditHmac = await hmacOf(t.call);
  expect(auditHmac).toMatch(/\S/);
  backupBefore = await takeBackup();
  const rotated = await t.call("POST", "/v1/sys/rotate-root", {});
  expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
  backupAfter = await takeBackup();
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("rotate-root re-seals every kind of sealed data", () => {
  it("after a restart the node holds the new root alone, and everything opens under it", async () => {
    const roots = sealRoots();
    expect(roots).toHaveLength(1);
    await t.restart();
    await t.unseal();
    expect(t.app.barrier.ring().ids).toEqual(roots);
    for (const [name, secret] of secrets) expect((await secretOf(t.app, name)).equals(secret), name).toBe(true);
    expect((await t.app.accessKeys.resolve(accessKey.accessKeyId)).secret.toString("utf8")).toBe(accessKey.secretAccessKey);
    expect(await t.app.ca.certificate()).toBe(caPem);
    expect((await t.app.ca.issueServer(["127.0.0.1"], 3600)).certificate).toContain("BEGIN CERTIFICATE");
    expect(await wrappingKey(t.app)).toBe(wrappingKeyPem);
    expect(await importsWith(t.app, "imported-after-rotation")).toBe(200);
    // The audit keys: the HMAC key is the same, and the signing key still signs checkpoints.
    expect(await hmacOf(t.call)).toBe(auditHmac);
    expect((await t.call("GET", "/v1/audit/head")).status).toBe(200);
  });
});

describe("a backup carries every kind of sealed data, sealed", () => {
  it.each([
    ["before the rotation", () => backupBefore],
    ["after the rotation", () => backupAfter],
  ])("taken %s: holds none of it in clear", (_when, file) => {
    const backup = file();
    for (const [name, secret] of [...secrets, ["access key", Buffer.from(accessKey.secretAccessKey)] as const]) {
      expect(backup.includes(secret), name).toBe(false);
      expect(backup.includes(Buffer.from(secret.toString("base64"))), name).toBe(false);
      expect(backup.includes(Buffer.from(secret.toString("hex"))), name).toBe(false);
    }
  });

  it.each([
    ["before the rotation", () => backupBefore],
    ["after the rotation", () => backupAfter],
  ])("taken %s: restores every key, the access key and the CA into a fresh node", async (when, file) => {
    const target = await buildApp({ store: new SqliteStore({ path: join(dir, `${when.replaceAll(" ", "-")}.db`) }), clock: new ManualClock(Date.UTC(2026, 0, 6, 12)) });
    try {
      const res = await target.http.inject({
        method: "POST",
        url: "/v1/sys/restore",
        headers: { "content-type": "application/vnd.tessera.restore" },
        payload: Buffer.concat([Buffer.from(`${JSON.stringify({ shares: t.shares.slice(1, 3) })}\n`), file()]),
      });
      expect(JSON.parse(res.body)).toMatchObject({ sealed: false });
      for (const [name, secret] of secrets) expect((await secretOf(target, name)).equals(secret), name).toBe(true);
      expect((await target.accessKeys.resolve(accessKey.accessKeyId)).secret.toString("utf8")).toBe(accessKey.secretAccessKey);
      expect(await target.ca.certificate()).toBe(caPem);
      expect((await target.ca.issueServer(["127.0.0.1"], 3600)).certificate).toContain("BEGIN CERTIFICATE");
      const call = async (method: string, url: string, body?: unknown) => {
        const r = await target.http.inject({ method: method as "POST", url, headers: { "x-tessera-token": t.rootToken, "content-type": "application/json" }, payload: JSON.stringify(body) });
        return { body: JSON.parse(r.body) as { hmac: string } };
      };
      expect(await hmacOf(call)).toBe(auditHmac);
    } finally {
      await target.close();
    }
  });
});
