/**
 * The official @aws-sdk/client-kms, unchanged apart from endpoint and credentials, against a real
 * Tessera on loopback: every supported operation, error paths with AWS's exception names, and
 * ciphertexts that cross between the AWS and the native API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CancelKeyDeletionCommand,
  ReplicateKeyCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  ListAliasesCommand,
  UpdateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore, buildApp, type TesseraApp } from "@tessera/server";
import { randomnessProblems } from "../helpers/randomness.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-aws-"));
let app: TesseraApp;
let endpoint = "";
let root = "";
let admin: KMSClient;
let limited: KMSClient;
let creds = { accessKeyId: "", secretAccessKey: "" };

const native = async (method: string, url: string, body?: unknown) => {
  const r = await app.http.inject({ method: method as "GET", url, headers: { "x-tessera-token": root, ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { payload: JSON.stringify(body) }) });
  return JSON.parse(r.body);
};
const client = (c: { accessKeyId: string; secretAccessKey: string }, region = "us-east-1") =>
  new KMSClient({ region, endpoint, credentials: c, maxAttempts: 1 });
const fails = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    return (err as { name: string }).name;
  }
  return "no error";
};
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }) });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  endpoint = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  const init = (await app.http.inject({ method: "POST", url: "/v1/sys/init", headers: { "content-type": "application/json" }, payload: '{"shares":1,"threshold":1}' })).json();
  root = init.rootToken;
  await app.http.inject({ method: "POST", url: "/v1/sys/unseal", headers: { "content-type": "application/json" }, payload: JSON.stringify({ share: init.shares[0] }) });
  const adminKey = await native("POST", "/v1/auth/access-keys", { role: "operator" });
  admin = client({ accessKeyId: adminKey.accessKeyId, secretAccessKey: adminKey.secretAccessKey });
  await native("PUT", "/v1/policies/app", { statements: [{ effect: "allow", actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], resources: ["app-*"] }] });
  await native("PUT", "/v1/roles/app", { policies: ["app"] });
  const limitedKey = await native("POST", "/v1/auth/access-keys", { role: "app" });
  creds = { accessKeyId: limitedKey.accessKeyId, secretAccessKey: limitedKey.secretAccessKey };
  limited = client(creds);
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("AWS KMS API through @aws-sdk/client-kms", () => {
  it("key administration: create, describe, list, describe, tags, rotation, enable/disable, deletion", async () => {
    const created = await admin.send(new CreateKeyCommand({ Description: "from the AWS SDK", Tags: [{ TagKey: "team", TagValue: "pay" }] }));
    const md = created.KeyMetadata!;
    expect(md.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${md.KeyId}`);
    expect(md).toMatchObject({ Enabled: true, KeyState: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Description: "from the AWS SDK" });
    expect(md.CreationDate).toBeInstanceOf(Date);
    for (const id of [md.KeyId!, md.Arn!]) expect((await admin.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata!.KeyId).toBe(md.KeyId);

    await admin.send(new UpdateKeyDescriptionCommand({ KeyId: md.KeyId, Description: "changed" }));
    expect((await admin.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.Description).toBe("changed");

    await admin.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: "env", TagValue: "prod" }] }));
    await admin.send(new UntagResourceCommand({ KeyId: md.KeyId, TagKeys: ["team"] }));
    expect((await admin.send(new ListResourceTagsCommand({ KeyId: md.KeyId }))).Tags).toEqual([{ TagKey: "env", TagValue: "prod" }]);

    expect((await admin.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).KeyRotationEnabled).toBe(false);
    await admin.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 90 }));
    expect(await admin.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    expect(await fails(admin.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 30 })))).toBe("ValidationException");
    await admin.send(new DisableKeyRotationCommand({ KeyId: md.KeyId }));
    await admin.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    expect((await admin.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }))).Rotations).toHaveLength(1);

    await admin.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    expect(await fails(admin.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: bytes("x") })))).toBe("DisabledException");
    await admin.send(new EnableKeyCommand({ KeyId: md.KeyId }));
    const del = await admin.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    expect(del).toMatchObject({ KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    expect(await fails(admin.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: bytes("x") })))).toBe("KMSInvalidStateException");
    await admin.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId }));
    // As AWS KMS does: a cancelled deletion leaves the key Disabled, with no deletion date.
    const cancelled = (await admin.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect([cancelled.KeyState, cancelled.Enabled, cancelled.DeletionDate]).toEqual(["Disabled", false, undefined]);

    await native("POST", "/v1/keys", { name: "second" });
    const listed = await admin.send(new ListKeysCommand({ Limit: 1 }));
    expect(listed.Keys).toHaveLength(1);
    expect(listed.Truncated).toBe(true);
    const next = await admin.send(new ListKeysCommand({ Limit: 100, Marker: listed.NextMarker }));
    expect(next.Truncated).toBe(false);
  });

  it("encrypt, decrypt, data keys, re-encrypt and random, with contexts", async () => {
    const key = (await native("POST", "/v1/keys", { name: "app-orders" })) as { keyId: string };
    const arn = `arn:aws:kms:us-east-1:000000000000:key/${key.keyId}`;
    const enc = await limited.send(new EncryptCommand({ KeyId: arn, Plaintext: bytes("card 4111"), EncryptionContext: { order: "42" } }));
    expect(enc.KeyId).toBe(arn);
    // The SDK's request id (x-amzn-RequestId, as AWS sends on every answer) is the audit record's.
    expect(enc.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const records = (await native("GET", `/v1/audit/entries?action=kms:Encrypt&limit=1000`)).records as { requestId: string; keyId: string; outcome: string }[];
    expect(records.find((r) => r.requestId === enc.$metadata.requestId)).toMatchObject({ keyId: key.keyId, outcome: "allowed" });
    const dec = await limited.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { order: "42" } }));
    expect(text(dec.Plaintext)).toBe("card 4111");
    expect(dec.KeyId).toBe(arn);
    // alias/<name> resolves to the Tessera key of that name.
    const viaAlias = await limited.send(new EncryptCommand({ KeyId: "alias/app-orders", Plaintext: bytes("x") }));
    expect(viaAlias.KeyId).toBe(arn);

    const dk = await limited.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: "AES_256", EncryptionContext: { file: "f" } }));
    expect(dk.Plaintext).toHaveLength(32);
    const back = await limited.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { file: "f" } }));
    expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
    const wp = await limited.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.keyId, NumberOfBytes: 16 }));
    const unwrapped = await limited.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob }));
    expect([unwrapped.KeyId, unwrapped.Plaintext?.length]).toEqual([arn, 16]);

    const other = (await native("POST", "/v1/keys", { name: "app-other" })) as { keyId: string };
    const re = await admin.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { order: "42" }, DestinationKeyId: other.keyId, DestinationEncryptionContext: { order: "43" } }));
    expect(re.SourceKeyId).toBe(arn);
    expect(text((await admin.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { order: "43" } }))).Plaintext)).toBe("card 4111");

    expect((await admin.send(new GenerateRandomCommand({ NumberOfBytes: 24 }))).Plaintext).toHaveLength(24);
    const draws = await Promise.all(Array.from({ length: 64 }, async () => (await admin.send(new GenerateRandomCommand({ NumberOfBytes: 16 }))).Plaintext!));
    expect(randomnessProblems(draws)).toEqual([]);

    // Across APIs: AWS ciphertext through the native API, native ciphertext through the AWS API.
    const viaNative = await native("POST", "/v1/decrypt", { ciphertext: Buffer.from(enc.CiphertextBlob!).toString("base64"), context: { order: "42" } });
    expect(Buffer.from(viaNative.plaintext, "base64").toString()).toBe("card 4111");
    const nat = await native("POST", "/v1/keys/app-orders/encrypt", { plaintext: Buffer.from("native").toString("base64") });
    expect(text((await limited.send(new DecryptCommand({ CiphertextBlob: Buffer.from(nat.ciphertext, "base64") }))).Plaintext)).toBe("native");
  });

  it("aliases: create, resolve (name and ARN), update, list and delete", async () => {
    const a = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    await admin.send(new CreateAliasCommand({ AliasName: "alias/billing", TargetKeyId: a.Arn }));
    expect(await fails(admin.send(new CreateAliasCommand({ AliasName: "alias/billing", TargetKeyId: b.KeyId })))).toBe("AlreadyExistsException");
    expect(await fails(admin.send(new CreateAliasCommand({ AliasName: "alias/aws/reserved", TargetKeyId: b.KeyId })))).toBe("ValidationException");
    const viaAlias = await admin.send(new EncryptCommand({ KeyId: "alias/billing", Plaintext: bytes("x") }));
    expect(viaAlias.KeyId).toBe(a.Arn);
    const viaAliasArn = await admin.send(new EncryptCommand({ KeyId: "arn:aws:kms:us-east-1:000000000000:alias/billing", Plaintext: bytes("x") }));
    expect(viaAliasArn.KeyId).toBe(a.Arn);
    await admin.send(new UpdateAliasCommand({ AliasName: "alias/billing", TargetKeyId: b.KeyId }));
    expect((await admin.send(new DescribeKeyCommand({ KeyId: "alias/billing" }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    const listed = await admin.send(new ListAliasesCommand({ KeyId: b.KeyId }));
    expect(listed.Aliases!.map((x) => [x.AliasName, x.TargetKeyId, x.AliasArn])).toEqual([["alias/billing", b.KeyId, "arn:aws:kms:us-east-1:000000000000:alias/billing"]]);
    await admin.send(new DeleteAliasCommand({ AliasName: "alias/billing" }));
    expect(await fails(admin.send(new DeleteAliasCommand({ AliasName: "alias/billing" })))).toBe("NotFoundException");
  });

  it("key policies map onto role policies: grant, condition, revoke, malformed", async () => {
    await native("PUT", "/v1/policies/nothing", { statements: [] });
    await native("PUT", "/v1/roles/reader", { policies: ["nothing"] });
    const readerKey = await native("POST", "/v1/auth/access-keys", { role: "reader" });
    const reader = client({ accessKeyId: readerKey.accessKeyId, secretAccessKey: readerKey.secretAccessKey });
    const k = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(JSON.parse((await admin.send(new GetKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default" }))).Policy!).Id).toBe("tessera-default");
    expect(await fails(reader.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: bytes("x"), EncryptionContext: { tenant: "a" } })))).toBe("AccessDeniedException");

    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Sid: "root", Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:root" }, Action: "kms:*", Resource: "*" },
        { Sid: "reader", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::000000000000:role/reader"] }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:tenant": "a" } } },
      ],
    });
    await admin.send(new PutKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default", Policy: policy }));
    expect((await admin.send(new GetKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default" }))).Policy).toBe(policy);
    const enc = await reader.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: bytes("x"), EncryptionContext: { tenant: "a" } }));
    expect(text((await reader.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: "a" } }))).Plaintext)).toBe("x");
    expect(await fails(reader.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: bytes("x"), EncryptionContext: { tenant: "b" } })))).toBe("AccessDeniedException");

    // A new policy without the role withdraws its access.
    await admin.send(new PutKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default", Policy: JSON.stringify({ Statement: [JSON.parse(policy).Statement[0]] }) }));
    expect(await fails(reader.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: bytes("x"), EncryptionContext: { tenant: "a" } })))).toBe("AccessDeniedException");
    const bad = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/reader" }, Action: "kms:Encrypt", Resource: "*", Condition: { DateGreaterThan: { "aws:CurrentTime": "2026-01-01" } } }] });
    expect(await fails(admin.send(new PutKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default", Policy: bad })))).toBe("MalformedPolicyDocumentException");
  });

  it("CreateKey with a Policy puts it as PutKeyPolicy would; a malformed one creates no key", async () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/app" }, Action: "kms:Encrypt", Resource: "*" }],
    });
    const k = (await admin.send(new CreateKeyCommand({ Policy: policy, BypassPolicyLockoutSafetyCheck: false, MultiRegion: false }))).KeyMetadata!;
    expect((await admin.send(new GetKeyPolicyCommand({ KeyId: k.KeyId, PolicyName: "default" }))).Policy).toBe(policy);
    expect((await limited.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: bytes("x") }))).KeyId).toContain(k.KeyId);
    const count = async () => (await admin.send(new ListKeysCommand({ Limit: 1000 }))).Keys?.length;
    const before = await count();
    expect(await fails(admin.send(new CreateKeyCommand({ Policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "audit:Read", Resource: "*" }] }) })))).toBe(
      "MalformedPolicyDocumentException",
    );
    expect(await count()).toBe(before);
  });

  it("answers errors with AWS exception names", async () => {
    const key = (await native("POST", "/v1/keys", { name: "app-errors" })) as { keyId: string };
    const other = (await native("POST", "/v1/keys", { name: "app-errors-2" })) as { keyId: string };
    const enc = await limited.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: bytes("x"), EncryptionContext: { a: "1" } }));
    const tampered = Buffer.from(enc.CiphertextBlob!);
    tampered[tampered.length - 1]! ^= 1;
    expect(await fails(limited.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: "2" } })))).toBe("InvalidCiphertextException");
    expect(await fails(limited.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: "1" } })))).toBe("InvalidCiphertextException");
    expect(await fails(limited.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: "1" }, KeyId: other.keyId })))).toBe("IncorrectKeyException");
    expect(await fails(limited.send(new DescribeKeyCommand({ KeyId: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11" })))).toBe("AccessDeniedException");
    expect(await fails(admin.send(new DescribeKeyCommand({ KeyId: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11" })))).toBe("NotFoundException");
    // Denied by policy: the app role may not create keys or rotate.
    expect(await fails(limited.send(new CreateKeyCommand({})))).toBe("AccessDeniedException");
    expect(await fails(limited.send(new RotateKeyOnDemandCommand({ KeyId: key.keyId })))).toBe("AccessDeniedException");
    // Bad credentials and signatures.
    expect(await fails(client({ accessKeyId: creds.accessKeyId, secretAccessKey: "wrong".repeat(8) }).send(new ListKeysCommand({})))).toBe("InvalidSignatureException");
    expect(await fails(client({ accessKeyId: "TSRKNOTAREALKEY12345", secretAccessKey: creds.secretAccessKey }).send(new ListKeysCommand({})))).toBe("UnrecognizedClientException");
    expect(await fails(client(creds, "eu-west-1").send(new ListKeysCommand({})))).toBe("InvalidSignatureException");
    await native("POST", `/v1/auth/access-keys/${creds.accessKeyId}/disable`);
    expect(await fails(limited.send(new ListKeysCommand({})))).toBe("UnrecognizedClientException");
    await native("POST", `/v1/auth/access-keys/${creds.accessKeyId}/enable`);
    expect(await fails(admin.send(new ReplicateKeyCommand({ KeyId: key.keyId, ReplicaRegion: "eu-west-1" })))).toBe("UnsupportedOperationException");
    expect(await fails(admin.send(new GenerateDataKeyCommand({ KeyId: key.keyId })))).toBe("ValidationException");
    // An empty KeyId breaks AWS's model (length >= 1): a ValidationException, not a lookup.
    const empty = await admin.send(new EncryptCommand({ KeyId: "", Plaintext: bytes("x") })).catch((e: Error) => e);
    expect([(empty as Error).name, (empty as Error).message]).toEqual(["ValidationException", "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"]);
    expect(await fails(admin.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { a: "1" }, DestinationKeyId: "" })))).toBe("ValidationException");
    // An alias that does not exist (AWS-managed ones never do here) is named as such.
    const unknownAlias = await admin.send(new DescribeKeyCommand({ KeyId: "alias/aws/s3" })).catch((e: Error) => e);
    expect([(unknownAlias as Error).name, (unknownAlias as Error).message]).toEqual(["NotFoundException", 'alias alias/aws/s3 is not found, and no key is named "aws/s3"']);
  });

  it("refuses requests without a signature with AWS error bodies, before it looks at the target", async () => {
    const res = await fetch(endpoint + "/", { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.ListKeys" }, body: "{}" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("IncompleteSignatureException");
    // Signed requests naming unknown operations: test/security/refused-requests-audited.test.ts.
    const unknown = await fetch(endpoint + "/", { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Nope" }, body: "{}" });
    expect(((await unknown.json()) as { __type: string }).__type).toBe("IncompleteSignatureException");
  });
});
