/**
 * AWS grants through the official @aws-sdk/client-kms against a real Tessera on loopback: create,
 * list, use (with and without grant tokens), constraints, retire, revoke, the operations a grant may
 * allow per key type, a grant that tries to reach another key, and the audit records that name it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  KMSClient,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore, buildApp, type TesseraApp } from "@tessera/server";

const dir = mkdtempSync(join(tmpdir(), "tessera-grants-"));
const ACCOUNT = "000000000000";
const roleArn = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;
let app: TesseraApp;
let endpoint = "";
let root = "";
let admin: KMSClient;
let batch: KMSClient;
let ops: KMSClient;
let k1 = "";
let k2 = "";

const native = async (method: string, url: string, body?: unknown) => {
  const r = await app.http.inject({
    method: method as "GET",
    url,
    headers: { "x-tessera-token": root, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return JSON.parse(r.body);
};
const client = async (role: string) => {
  const k = await native("POST", "/v1/auth/access-keys", { role });
  return new KMSClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey }, maxAttempts: 1 });
};
const fails = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    return (err as { name: string }).name;
  }
  return "no error";
};
const bytes = (s: string) => new TextEncoder().encode(s);
const symmetricKey = async () => (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
const grant = (input: Partial<ConstructorParameters<typeof CreateGrantCommand>[0]> & { KeyId: string }) =>
  admin.send(new CreateGrantCommand({ GranteePrincipal: roleArn("batch"), Operations: ["Encrypt"], ...input }));
type Entry = { action: string; outcome: string; keyId: string | null; detail?: Record<string, string>; requestId: string };
const records = async (keyId: string): Promise<Entry[]> => (await native("GET", `/v1/audit/entries?key=${keyId}&limit=1000`)).records;

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), aws: { region: "us-east-1", accountId: ACCOUNT } });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  endpoint = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  const init = (await app.http.inject({ method: "POST", url: "/v1/sys/init", headers: { "content-type": "application/json" }, payload: '{"shares":1,"threshold":1}' })).json();
  root = init.rootToken;
  await app.http.inject({ method: "POST", url: "/v1/sys/unseal", headers: { "content-type": "application/json" }, payload: JSON.stringify({ share: init.shares[0] }) });
  admin = await client("operator");
  // Roles whose own policies allow nothing on keys: whatever they can do, a grant gave them.
  await native("PUT", "/v1/policies/nothing", { statements: [{ effect: "allow", actions: ["kms:DescribeKey"], resources: ["key/none-such"] }] });
  await native("PUT", "/v1/roles/batch", { policies: ["nothing"] });
  await native("PUT", "/v1/roles/ops", { policies: ["nothing"] });
  batch = await client("batch");
  ops = await client("ops");
  k1 = await symmetricKey();
  k2 = await symmetricKey();
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("AWS grants with the official SDK", () => {
  it("a grantee can do nothing before its grant, and exactly the granted operations on the granted key after it", async () => {
    expect(await fails(batch.send(new EncryptCommand({ KeyId: k1, Plaintext: bytes("x") })))).toBe("AccessDeniedException");
    const g = await grant({ KeyId: k1, Operations: ["Encrypt", "Decrypt", "DescribeKey"] });
    expect(g.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(g.GrantToken).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const c = await batch.send(new EncryptCommand({ KeyId: k1, Plaintext: bytes("pay"), GrantTokens: [g.GrantToken!] }));
    expect(new TextDecoder().decode((await batch.send(new DecryptCommand({ CiphertextBlob: c.CiphertextBlob! }))).Plaintext)).toBe("pay");
    expect((await batch.send(new DescribeKeyCommand({ KeyId: k1 }))).KeyMetadata?.KeyId).toBe(k1);
    // Not an operation it grants, and never another key.
    expect(await fails(batch.send(new GenerateDataKeyCommand({ KeyId: k1, KeySpec: "AES_256" })))).toBe("AccessDeniedException");
    expect(await fails(batch.send(new EncryptCommand({ KeyId: k2, Plaintext: bytes("x"), GrantTokens: [g.GrantToken!] })))).toBe("AccessDeniedException");
    await admin.send(new RevokeGrantCommand({ KeyId: k1, GrantId: g.GrantId! }));
    expect(await fails(batch.send(new EncryptCommand({ KeyId: k1, Plaintext: bytes("x") })))).toBe("AccessDeniedException");
  });

  it("EncryptionContextSubset: the request's context must include the pairs (keys case-insensitive, values not); DescribeKey is not constrained", async () => {
    const key = await symmetricKey();
    await grant({ KeyId: key, Operations: ["Encrypt", "DescribeKey"], Constraints: { EncryptionContextSubset: { tenant: "t1" } } });
    const enc = (ctx?: Record<string, string>) => batch.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("x"), ...(ctx && { EncryptionContext: ctx }) }));
    expect((await enc({ tenant: "t1", purpose: "invoice" })).KeyId).toContain(key);
    expect((await enc({ TENANT: "t1" })).KeyId).toContain(key);
    expect(await fails(enc({ tenant: "T1" }))).toBe("AccessDeniedException");
    expect(await fails(enc({ tenant: "t2" }))).toBe("AccessDeniedException");
    expect(await fails(enc())).toBe("AccessDeniedException");
    expect((await batch.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata?.KeyId).toBe(key);
  });

  it("EncryptionContextEquals: the request's context must be exactly the pairs", async () => {
    const key = await symmetricKey();
    await grant({ KeyId: key, Operations: ["Encrypt"], Constraints: { EncryptionContextEquals: { tenant: "t1" } } });
    const enc = (ctx: Record<string, string>) => batch.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("x"), EncryptionContext: ctx }));
    expect((await enc({ tenant: "t1" })).KeyId).toContain(key);
    expect(await fails(enc({ tenant: "t1", purpose: "invoice" }))).toBe("AccessDeniedException");
    expect(await fails(enc({}))).toBe("AccessDeniedException");
  });

  it("lists grants in AWS's shape, filters by grant id and grantee, and lists what a role may retire", async () => {
    const key = await symmetricKey();
    const g = await grant({ KeyId: key, Name: "nightly", Operations: ["Decrypt"], RetiringPrincipal: roleArn("ops"), Constraints: { EncryptionContextSubset: { job: "nightly" } } });
    await grant({ KeyId: key, Operations: ["Encrypt"], GranteePrincipal: roleArn("ops") });
    const all = await admin.send(new ListGrantsCommand({ KeyId: key }));
    expect(all.Truncated).toBe(false);
    expect(all.Grants).toHaveLength(2);
    const [first] = (await admin.send(new ListGrantsCommand({ KeyId: key, GrantId: g.GrantId }))).Grants!;
    expect(first).toEqual({
      KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${key}`,
      GrantId: g.GrantId,
      Name: "nightly",
      CreationDate: expect.any(Date),
      GranteePrincipal: roleArn("batch"),
      RetiringPrincipal: roleArn("ops"),
      IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
      Operations: ["Decrypt"],
      Constraints: { EncryptionContextSubset: { job: "nightly" } },
    });
    expect((await admin.send(new ListGrantsCommand({ KeyId: key, GranteePrincipal: roleArn("ops") }))).Grants?.map((x) => x.Operations)).toEqual([["Encrypt"]]);
    const paged = await admin.send(new ListGrantsCommand({ KeyId: key, Limit: 1 }));
    expect(paged).toMatchObject({ Truncated: true, NextMarker: "1" });
    expect((await admin.send(new ListGrantsCommand({ KeyId: key, Limit: 1, Marker: paged.NextMarker }))).Grants).toHaveLength(1);
    // The retiring role lists its own retirable grants without any policy; another role may not.
    const retirable = await ops.send(new ListRetirableGrantsCommand({ RetiringPrincipal: roleArn("ops") }));
    expect(retirable.Grants?.map((x) => x.GrantId)).toContain(g.GrantId);
    expect(await fails(batch.send(new ListRetirableGrantsCommand({ RetiringPrincipal: roleArn("ops") })))).toBe("AccessDeniedException");
    // Natively too.
    const listed = await native("GET", `/v1/keys/${key}/grants`);
    expect(listed.grants.map((x: { grantId: string; granteeRole: string }) => [x.grantId === g.GrantId, x.granteeRole])).toEqual([[true, "batch"], [false, "ops"]]);
  });

  it("CreateGrant with a name and the same parameters returns the same grant", async () => {
    const key = await symmetricKey();
    const a = await grant({ KeyId: key, Name: "app-1", Operations: ["Encrypt", "Decrypt"] });
    const b = await grant({ KeyId: key, Name: "app-1", Operations: ["Decrypt", "Encrypt"] });
    expect(b.GrantId).toBe(a.GrantId);
    const c = await grant({ KeyId: key, Name: "app-1", Operations: ["Decrypt"] });
    expect(c.GrantId).not.toBe(a.GrantId);
    expect((await admin.send(new ListGrantsCommand({ KeyId: key }))).Grants).toHaveLength(2);
  });

  it("restricts the operations to those AWS allows for the key's type, and constraints to symmetric encryption keys", async () => {
    const hmac = (await admin.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }))).KeyMetadata!.KeyId!;
    expect(await fails(grant({ KeyId: k1, Operations: ["Sign"] }))).toBe("ValidationException");
    expect(await fails(grant({ KeyId: k1, Operations: ["GenerateMac"] }))).toBe("ValidationException");
    expect(await fails(grant({ KeyId: k1, Operations: ["ReEncrypt" as "ReEncryptFrom"] }))).toBe("ValidationException");
    expect(await fails(grant({ KeyId: hmac, Operations: ["Encrypt"] }))).toBe("ValidationException");
    expect(await fails(grant({ KeyId: hmac, Operations: ["GenerateMac"], Constraints: { EncryptionContextSubset: { a: "b" } } }))).toBe("ValidationException");
    const ok = await grant({ KeyId: hmac, Operations: ["GenerateMac", "VerifyMac"] });
    expect((await batch.send(new GenerateMacCommand({ KeyId: hmac, Message: bytes("m"), MacAlgorithm: "HMAC_SHA_256", GrantTokens: [ok.GrantToken!] }))).Mac?.length).toBe(32);
    expect(await fails(grant({ KeyId: k1, GranteePrincipal: `arn:aws:iam::${ACCOUNT}:user/alice` }))).toBe("InvalidArnException");
    expect(await fails(grant({ KeyId: k1, GranteePrincipal: roleArn("no-such-role") }))).toBe("InvalidArnException");
    expect(await fails(grant({ KeyId: k1, GranteePrincipal: "arn:aws:iam::111111111111:role/batch" }))).toBe("InvalidArnException");
    expect(await fails(batch.send(new EncryptCommand({ KeyId: k1, Plaintext: bytes("x"), GrantTokens: ["bm90IGEgdG9rZW4="] })))).toBe("InvalidGrantTokenException");
    expect(await fails(admin.send(new RevokeGrantCommand({ KeyId: k1, GrantId: "nope" })))).toBe("InvalidGrantIdException");
    expect(await fails(admin.send(new RevokeGrantCommand({ KeyId: k1, GrantId: "f".repeat(64) })))).toBe("NotFoundException");
  });

  it("a grant that allows CreateGrant never reaches another key, more operations or a looser constraint", async () => {
    const key = await symmetricKey();
    const parent = await grant({ KeyId: key, Operations: ["CreateGrant", "Encrypt", "Decrypt"], Constraints: { EncryptionContextSubset: { tenant: "t1" } } });
    const sub = (input: Partial<ConstructorParameters<typeof CreateGrantCommand>[0]>) =>
      batch.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: roleArn("ops"), Operations: ["Encrypt"], GrantTokens: [parent.GrantToken!], ...input }));
    expect(await fails(sub({ KeyId: k2, Constraints: { EncryptionContextSubset: { tenant: "t1" } } }))).toBe("AccessDeniedException");
    expect(await fails(sub({ Operations: ["Encrypt", "GenerateDataKey"], Constraints: { EncryptionContextSubset: { tenant: "t1" } } }))).toBe("AccessDeniedException");
    expect(await fails(sub({}))).toBe("AccessDeniedException");
    expect(await fails(sub({ Constraints: { EncryptionContextSubset: { tenant: "t2" } } }))).toBe("AccessDeniedException");
    const child = await sub({ Constraints: { EncryptionContextEquals: { tenant: "t1", region: "eu" } } });
    expect(child.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect((await ops.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("x"), EncryptionContext: { tenant: "t1", region: "eu" } }))).KeyId).toContain(key);
    expect(await fails(ops.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("x"), EncryptionContext: { tenant: "t1" } })))).toBe("AccessDeniedException");
  });

  it("retiring: by token when the grant allows RetireGrant, by the retiring role, never by a grantee it does not allow", async () => {
    const key = await symmetricKey();
    const own = await grant({ KeyId: key, Operations: ["Encrypt", "RetireGrant"] });
    const keep = await grant({ KeyId: key, Operations: ["Decrypt"], RetiringPrincipal: roleArn("ops") });
    // The grantee may retire the grant that lets it, not another grant to it.
    expect(await fails(batch.send(new RetireGrantCommand({ KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${key}`, GrantId: keep.GrantId })))).toBe("AccessDeniedException");
    await batch.send(new RetireGrantCommand({ GrantToken: own.GrantToken }));
    expect(await fails(batch.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("x") })))).toBe("AccessDeniedException");
    expect(await fails(batch.send(new RetireGrantCommand({ GrantToken: own.GrantToken })))).toBe("AccessDeniedException");
    await ops.send(new RetireGrantCommand({ KeyId: key, GrantId: keep.GrantId }));
    expect((await admin.send(new ListGrantsCommand({ KeyId: key }))).Grants).toEqual([]);
    expect(await fails(admin.send(new RetireGrantCommand({ KeyId: key, GrantId: keep.GrantId })))).toBe("NotFoundException");
    expect(await fails(ops.send(new RevokeGrantCommand({ KeyId: key, GrantId: keep.GrantId })))).toBe("AccessDeniedException");
  });

  it("audits a grant when created, used, retired and revoked, naming it in every record", async () => {
    const key = await symmetricKey();
    const g = await grant({ KeyId: key, Operations: ["Encrypt", "RetireGrant"] });
    await batch.send(new EncryptCommand({ KeyId: key, Plaintext: bytes("secret-plaintext") }));
    await batch.send(new RetireGrantCommand({ GrantToken: g.GrantToken }));
    const h = await grant({ KeyId: key, Operations: ["Encrypt"] });
    await admin.send(new RevokeGrantCommand({ KeyId: key, GrantId: h.GrantId }));
    const trail = (await records(key)).filter((r) => r.outcome === "allowed");
    const named = (action: string, id: string) => trail.filter((r) => r.action === action && r.detail?.["grant"] === id);
    expect(named("kms:CreateGrant", g.GrantId!)).toHaveLength(1);
    expect(named("kms:Encrypt", g.GrantId!)).toHaveLength(1);
    expect(named("kms:RetireGrant", g.GrantId!)).toHaveLength(1);
    expect(named("kms:RevokeGrant", h.GrantId!)).toHaveLength(1);
    // Each change had its intent durable first (the door's rule for writes).
    const intents = (await records(key)).filter((r) => r.outcome === "intent").map((r) => r.action);
    expect(intents).toEqual(expect.arrayContaining(["kms:CreateGrant", "kms:RetireGrant", "kms:RevokeGrant"]));
    expect(JSON.stringify(trail)).not.toContain("secret-plaintext");
  });
});
