/**
 * HMAC keys (HMAC_224/256/384/512, HMAC_SM3): GenerateMac and VerifyMac through the native API and,
 * for AWS's four, the official AWS SDK; usage errors, rotation with versions, authorisation and audit.
 */
import { GenerateMacCommand, VerifyMacCommand, CreateKeyCommand, DescribeKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { macAlgorithms, type MacAlgorithm } from "@tessera/protocol";
import { b64, roleToken } from "../helpers/app.js";
import { awsError, startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let admin: KMSClient;
beforeAll(async () => {
  t = await startAwsTestApp();
  admin = t.kms(await t.call("POST", "/v1/auth/access-keys", { role: "operator" }).then((r) => r.body));
});
afterAll(async () => {
  await t?.close();
});

const specs: [string, MacAlgorithm, number][] = [
  ["HMAC_224", "HMAC_SHA_224", 28],
  ["HMAC_256", "HMAC_SHA_256", 32],
  ["HMAC_384", "HMAC_SHA_384", 48],
  ["HMAC_512", "HMAC_SHA_512", 64],
  ["HMAC_SM3", "HMAC_SM3", 32],
];
const codeOf = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });
const message = b64("what the MAC covers");

describe.each(specs)("%s keys (native API)", (spec, algorithm, length) => {
  const name = `mac-${spec.toLowerCase().replace("_", "-")}`;

  it("are created for GENERATE_VERIFY_MAC by default; a MAC has the hash's length and verifies", async () => {
    const created = await t.call("POST", "/v1/keys", { name, keySpec: spec });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ keySpec: spec, keyUsage: "GENERATE_VERIFY_MAC" });
    const g = await t.call("POST", `/v1/keys/${name}/generate-mac`, { message, macAlgorithm: algorithm });
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ keyId: created.body.keyId, keyVersion: 1, macAlgorithm: algorithm });
    expect(Buffer.from(g.body.mac, "base64")).toHaveLength(length);
    // Deterministic: the same key and message give the same MAC.
    expect((await t.call("POST", `/v1/keys/${name}/generate-mac`, { message, macAlgorithm: algorithm })).body.mac).toBe(g.body.mac);
    const v = await t.call("POST", `/v1/keys/${name}/verify-mac`, { message, macAlgorithm: algorithm, mac: g.body.mac });
    expect(v.body).toEqual({ keyId: created.body.keyId, keyVersion: 1, macAlgorithm: algorithm, macValid: true });
  });

  it("a MAC with one bit changed, of another message, or cut short does not verify (macValid false, not an error)", async () => {
    const mac = Buffer.from((await t.call("POST", `/v1/keys/${name}/generate-mac`, { message, macAlgorithm: algorithm })).body.mac, "base64");
    const bad = Buffer.from(mac);
    bad[bad.length - 1]! ^= 0x01;
    for (const [m, candidate] of [[message, bad], [b64("another message"), mac], [message, mac.subarray(0, mac.length - 1)]] as const) {
      const v = await t.call("POST", `/v1/keys/${name}/verify-mac`, { message: m, macAlgorithm: algorithm, mac: Buffer.from(candidate).toString("base64") });
      expect([v.status, v.body.macValid]).toEqual([200, false]);
    }
  });

  it("any other MAC algorithm, and every encryption operation, is InvalidKeyUsage", async () => {
    for (const other of Object.keys(macAlgorithms).filter((a) => a !== algorithm)) {
      expect(codeOf(await t.call("POST", `/v1/keys/${name}/generate-mac`, { message, macAlgorithm: other }))).toEqual({ status: 400, code: "InvalidKeyUsage" });
    }
    expect(codeOf(await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: message }))).toEqual({ status: 400, code: "InvalidKeyUsage" });
    expect(codeOf(await t.call("POST", `/v1/keys/${name}/generate-data-key`, {}))).toEqual({ status: 400, code: "InvalidKeyUsage" });
    expect(codeOf(await t.call("POST", `/v1/keys/${name}/derive`, { context: { a: "b" } }))).toEqual({ status: 400, code: "InvalidKeyUsage" });
  });
});

describe("HMAC keys and the rest of Tessera", () => {
  it("GenerateMac with an encryption key is InvalidKeyUsage; an HMAC key cannot be created for ENCRYPT_DECRYPT", async () => {
    await t.call("POST", "/v1/keys", { name: "mac-aes" });
    expect(codeOf(await t.call("POST", "/v1/keys/mac-aes/generate-mac", { message, macAlgorithm: "HMAC_SHA_256" }))).toEqual({ status: 400, code: "InvalidKeyUsage" });
    expect(codeOf(await t.call("POST", "/v1/keys", { name: "mac-enc", keySpec: "HMAC_256", keyUsage: "ENCRYPT_DECRYPT" }))).toEqual({ status: 400, code: "InvalidInput" });
  });

  it("rotation: new MACs name version 2; a version-1 MAC verifies when its version is named, not against the primary", async () => {
    await t.call("POST", "/v1/keys", { name: "mac-rot", keySpec: "HMAC_SM3" });
    const m1 = (await t.call("POST", "/v1/keys/mac-rot/generate-mac", { message, macAlgorithm: "HMAC_SM3" })).body;
    expect((await t.call("POST", "/v1/keys/mac-rot/rotate")).status).toBe(200);
    const m2 = (await t.call("POST", "/v1/keys/mac-rot/generate-mac", { message, macAlgorithm: "HMAC_SM3" })).body;
    expect([m1.keyVersion, m2.keyVersion]).toEqual([1, 2]);
    expect(m1.mac).not.toBe(m2.mac);
    const verify = (mac: string, keyVersion?: number) =>
      t.call("POST", "/v1/keys/mac-rot/verify-mac", { message, macAlgorithm: "HMAC_SM3", mac, ...(keyVersion !== undefined && { keyVersion }) });
    expect((await verify(m1.mac)).body).toMatchObject({ keyVersion: 2, macValid: false });
    expect((await verify(m1.mac, 1)).body).toMatchObject({ keyVersion: 1, macValid: true });
    expect((await verify(m2.mac)).body).toMatchObject({ keyVersion: 2, macValid: true });
    // A retired version no longer verifies; a version that does not exist is NotFound.
    expect((await t.call("POST", "/v1/keys/mac-rot/min-decryption-version", { minDecryptionVersion: 2 })).status).toBe(200);
    expect(codeOf(await verify(m1.mac, 1))).toEqual({ status: 409, code: "Disabled" });
    expect(codeOf(await verify(m1.mac, 3))).toEqual({ status: 404, code: "NotFound" });
  });

  it("policies grant kms:GenerateMac and kms:VerifyMac separately; a verifier cannot make MACs", async () => {
    await t.call("POST", "/v1/keys", { name: "mac-pol", keySpec: "HMAC_256" });
    const put = await t.call("PUT", "/v1/policies/mac-verifier", { statements: [{ effect: "allow", actions: ["kms:VerifyMac"], resources: ["key/mac-pol"] }] });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    expect((await t.call("PUT", "/v1/roles/mac-verifier", { policies: ["mac-verifier"] })).status).toBeLessThan(300);
    const token = await roleToken(t, "mac-verifier");
    const mac = (await t.call("POST", "/v1/keys/mac-pol/generate-mac", { message, macAlgorithm: "HMAC_SHA_256" })).body.mac;
    expect((await t.call("POST", "/v1/keys/mac-pol/verify-mac", { message, macAlgorithm: "HMAC_SHA_256", mac }, token)).body.macValid).toBe(true);
    expect(codeOf(await t.call("POST", "/v1/keys/mac-pol/generate-mac", { message, macAlgorithm: "HMAC_SHA_256" }, token))).toEqual({ status: 403, code: "AccessDenied" });
  });

  it("the audit trail names the action, key and version, and holds neither the message nor the MAC", async () => {
    const created = (await t.call("POST", "/v1/keys", { name: "mac-aud", keySpec: "HMAC_512" })).body;
    const secretMessage = b64("audit-must-not-see-this");
    const mac = (await t.call("POST", "/v1/keys/mac-aud/generate-mac", { message: secretMessage, macAlgorithm: "HMAC_SHA_512" })).body.mac;
    await t.call("POST", "/v1/keys/mac-aud/verify-mac", { message: secretMessage, macAlgorithm: "HMAC_SHA_512", mac });
    const entries = (await t.call("GET", `/v1/audit/entries?key=${created.keyId}`)).body.records as { action: string; keyVersion: number | null; outcome: string }[];
    expect(entries.filter((e) => e.action === "kms:GenerateMac" || e.action === "kms:VerifyMac").map((e) => [e.action, e.keyVersion, e.outcome])).toEqual([
      ["kms:GenerateMac", 1, "allowed"],
      ["kms:VerifyMac", 1, "allowed"],
    ]);
    const raw = JSON.stringify(entries);
    expect(raw).not.toContain(secretMessage);
    expect(raw).not.toContain(mac);
  });

  it("an empty message is InvalidInput, one over 4096 bytes TooLarge", async () => {
    await t.call("POST", "/v1/keys", { name: "mac-size", keySpec: "HMAC_256" });
    expect(codeOf(await t.call("POST", "/v1/keys/mac-size/generate-mac", { message: "", macAlgorithm: "HMAC_SHA_256" }))).toEqual({ status: 400, code: "InvalidInput" });
    expect(codeOf(await t.call("POST", "/v1/keys/mac-size/generate-mac", { message: b64(Buffer.alloc(4097)), macAlgorithm: "HMAC_SHA_256" }))).toEqual({ status: 413, code: "TooLarge" });
  });
});

describe("GenerateMac and VerifyMac through the official AWS SDK", () => {
  it.each(specs)("%s: CreateKey, DescribeKey's MacAlgorithms, GenerateMac, VerifyMac; a bad MAC is KMSInvalidMacException", async (spec, algorithm) => {
    const created = await admin.send(new CreateKeyCommand({ KeySpec: spec as "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }));
    const keyId = created.KeyMetadata!.KeyId!;
    const described = await admin.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(described.KeyMetadata).toMatchObject({ KeySpec: spec, KeyUsage: "GENERATE_VERIFY_MAC", MacAlgorithms: [algorithm] });
    const Message = Buffer.from("aws message");
    // HMAC_SM3 is Tessera's; the SDK passes a value outside its enum through unchanged.
    const MacAlgorithm = algorithm as "HMAC_SHA_256";
    const g = await admin.send(new GenerateMacCommand({ KeyId: keyId, Message, MacAlgorithm }));
    expect(g.MacAlgorithm).toBe(algorithm);
    expect(g.KeyId).toContain(keyId);
    const native = await t.call("POST", `/v1/keys/${keyId}/verify-mac`, { message: b64(Message), macAlgorithm: algorithm, mac: Buffer.from(g.Mac!).toString("base64") });
    expect(native.body.macValid).toBe(true);
    const v = await admin.send(new VerifyMacCommand({ KeyId: keyId, Message, MacAlgorithm, Mac: g.Mac! }));
    expect(v).toMatchObject({ MacValid: true, MacAlgorithm: algorithm });
    const bad = Buffer.from(g.Mac!);
    bad[0]! ^= 0x80;
    expect(await awsError(admin.send(new VerifyMacCommand({ KeyId: keyId, Message, MacAlgorithm, Mac: bad })))).toBe("KMSInvalidMacException");
    const other = (specs.find(([, a]) => a !== algorithm)![1]) as "HMAC_SHA_256";
    expect(await awsError(admin.send(new GenerateMacCommand({ KeyId: keyId, Message, MacAlgorithm: other })))).toBe("InvalidKeyUsageException");
  });

  it("an unknown MacAlgorithm is a ValidationException", async () => {
    const created = await admin.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }));
    expect(await awsError(admin.send(new GenerateMacCommand({ KeyId: created.KeyMetadata!.KeyId!, Message: Buffer.from("m"), MacAlgorithm: "HMAC_MD5" as "HMAC_SHA_256" })))).toBe(
      "ValidationException",
    );
  });
});
