/**
 * Issue 8, item 2: AWS key policies granted anything to anyone. With only kms:PutKeyPolicy and
 * kms:DescribeKey on one key, a caller put a key policy with `"Action": "*"` naming its own role, and so
 * gained audit:Read; then created a policy and a role named after the key id (the translated statement's
 * resource) and a secret id for that role: full administrator. A key policy may now grant only kms
 * actions on its own key, and the policies it generates carry names no caller can write, delete or
 * attach.
 */
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, PutKeyPolicyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsError, startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let admin: KMSClient;
beforeEach(async () => {
  t = await startAwsTestApp();
  admin = await t.kmsFor("operator");
});
afterEach(async () => {
  await t.close();
});

async function approleLogin(role: string): Promise<string> {
  const roleId = await t.call("GET", `/v1/auth/approle/roles/${role}/role-id`);
  const secret = await t.call("POST", `/v1/auth/approle/roles/${role}/secret-id`, {});
  const login = await t.call("POST", "/v1/auth/approle/login", { roleId: roleId.body.roleId, secretId: secret.body.secretId }, null);
  expect(login.status).toBe(200);
  return login.body.token as string;
}

describe("AWS key policies grant only kms actions on their own key", () => {
  it("PutKeyPolicy with Action * on one key gives the caller nothing beyond that key", async () => {
    const keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const other = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    expect((await t.call("PUT", "/v1/policies/owner", { statements: [{ effect: "allow", actions: ["kms:PutKeyPolicy", "kms:DescribeKey"], resources: [keyId] }] })).status).toBe(200);
    expect((await t.call("PUT", "/v1/roles/owner", { policies: ["owner"], approle: {} })).status).toBe(200);
    const owner = await t.kmsFor("owner");
    const token = await approleLogin("owner");

    const everything = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Sid: "all", Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/owner" }, Action: "*", Resource: "*" }],
    });
    await owner.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: everything }));

    // `*` became every kms action on this key …
    await owner.send(new EncryptCommand({ KeyId: keyId, Plaintext: new TextEncoder().encode("x") }));
    expect((await owner.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyId).toBe(keyId);
    // … and nothing else: not another key, not the audit trail, not policies, roles or credentials.
    expect(await awsError(owner.send(new EncryptCommand({ KeyId: other, Plaintext: new TextEncoder().encode("x") })))).toBe("AccessDeniedException");
    expect((await t.call("GET", "/v1/audit/entries", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/sys/seal", undefined, token)).body.error.code).toBe("AccessDenied");
    const adminPolicy = { statements: [{ effect: "allow", actions: ["*"], resources: ["*"] }] };
    expect((await t.call("PUT", `/v1/policies/${keyId}`, adminPolicy, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("PUT", `/v1/roles/${keyId}`, { policies: ["operator"], approle: {} }, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/auth/approle/roles/owner/secret-id", {}, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", `/v1/roles/${keyId}`)).status).toBe(404);

    // The translation names exactly the key-scoped actions and this key.
    const attached = (await t.call("GET", "/v1/roles/owner")).body.policies as string[];
    const generated = attached.filter((p) => p.startsWith("@"));
    expect(generated).toEqual([`@key-policy/${keyId}/owner`]);
  });

  it("naming an action outside the key is MalformedPolicyDocumentException", async () => {
    const keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await t.call("PUT", "/v1/policies/nothing", { statements: [] });
    await t.call("PUT", "/v1/roles/someone", { policies: ["nothing"] });
    const policy = (action: string | string[]) =>
      JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/someone" }, Action: action, Resource: "*" }] });
    for (const action of ["audit:Read", "policy:PutPolicy", "sys:Seal", "auth:CreateSecretId", "kms:CreateKey", "kms:CreateAlias", "kms:ListKeys", "audit:*", ["kms:Encrypt", "policy:*"]]) {
      expect(await awsError(admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: policy(action) })))).toBe("MalformedPolicyDocumentException");
    }
    // A resource other than this key is refused too.
    const elsewhere = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/someone" }, Action: "kms:Encrypt", Resource: "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000" }],
    });
    expect(await awsError(admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: elsewhere })))).toBe("MalformedPolicyDocumentException");
    // Nothing was attached by the refused attempts.
    expect(((await t.call("GET", "/v1/roles/someone")).body.policies as string[]).filter((p) => p.startsWith("@"))).toEqual([]);
  });

  it("callers cannot write, delete or attach the policies key policies generate", async () => {
    const keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await t.call("PUT", "/v1/policies/nothing", { statements: [] });
    await t.call("PUT", "/v1/roles/reader", { policies: ["nothing"] });
    await t.call("PUT", "/v1/roles/bystander", { policies: ["nothing"] });
    const reader = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/reader" }, Action: "kms:Decrypt", Resource: "*" }] });
    await admin.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: reader }));
    const name = `@key-policy/${keyId}/reader`;
    const encoded = encodeURIComponent(name);
    const doc = { statements: [{ effect: "allow", actions: ["*"], resources: ["*"] }] };

    // Writing or deleting it by name — even as root — is refused.
    expect((await t.call("PUT", `/v1/policies/${encoded}`, doc)).body.error.code).toBe("InvalidInput");
    expect((await t.call("DELETE", `/v1/policies/${encoded}`)).body.error.code).toBe("InvalidInput");
    // Attaching it to another role is refused, naming the field.
    const attach = await t.call("PUT", "/v1/roles/bystander", { policies: ["nothing", name] });
    expect(attach.body.error).toMatchObject({ code: "InvalidInput", field: "/policies/1" });
    // Rewriting the role it is attached to keeps it: the key policy owns that attachment.
    expect((await t.call("PUT", "/v1/roles/reader", { policies: ["nothing"] })).body.policies).toEqual(["nothing", name]);
    const roundTrip = (await t.call("GET", "/v1/roles/reader")).body;
    expect((await t.call("PUT", "/v1/roles/reader", { policies: roundTrip.policies })).body.policies).toEqual(["nothing", name]);
    // The old naming scheme (`key.<id>.<role>`) was an ordinary name: a policy written under it is just a policy.
    expect((await t.call("PUT", `/v1/policies/key.${keyId}.reader`, { statements: [] })).status).toBe(200);
  });
});
