/**
 * examples/terraform (the payment case) as the Terraform AWS provider would drive it — replayed with
 * the official @aws-sdk/client-kms, call for call, because no Terraform binary is available here.
 *
 * The sequences are read from the provider's source (hashicorp/terraform-provider-aws,
 * internal/service/kms: key.go, alias.go, key_policy.go, grant.go, tags_gen.go) and listed in
 * docs/automation.md. Its waiters ("wait until N consecutive reads agree") are replayed as N reads that
 * must all agree, without the sleeps. Every call is recorded, and each phase — apply, refresh, an
 * update, destroy — must make exactly the listed calls and succeed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as K from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore, buildApp, type TesseraApp } from "@tessera/server";

const dir = mkdtempSync(join(tmpdir(), "tessera-terraform-"));
const ACCOUNT = "000000000000";
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
let app: TesseraApp;
let endpoint = "";
let kms: K.KMSClient;
let root = "";
const calls: string[] = [];

/** Sends one AWS call as the provider does, and records its operation name. */
async function aws<O>(command: { input: object; constructor: { name: string } }): Promise<O> {
  calls.push(command.constructor.name.replace(/Command$/, ""));
  return (await kms.send(command as Parameters<K.KMSClient["send"]>[0])) as O;
}
const phase = () => calls.splice(0);

/** structure.NormalizeJsonString: Go's json.Marshal of the parsed document — compact, keys sorted. */
const normalize = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

/** The payment case's key policy (examples/terraform/main.tf, aws_kms_key_policy.payment_db). */
const paymentPolicy = (sourceCidr?: string) =>
  normalize({
    Version: "2012-10-17",
    Id: "payment-db",
    Statement: [
      { Sid: "Operators administer the key through their role policies", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "Payment VMs decrypt the database password, bound to the payment application",
        Effect: "Allow",
        Principal: { AWS: role("payment-vm") },
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:EncryptionContext:app": "payment" }, ...(sourceCidr !== undefined && { IpAddress: { "aws:SourceIp": [sourceCidr] } }) },
      },
    ],
  });
/** conns.AWSClient.DefaultKMSKeyPolicy with skip_requesting_account_id: the account id is empty. */
const providerDefaultPolicy = normalize({
  Id: "default",
  Version: "2012-10-17",
  Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: "arn:aws:iam:::root" }, Action: "kms:*", Resource: "*" }],
});

/** tfresource.WaitUntil with ContinuousTargetOccurence n: n consecutive reads that all satisfy `ok`. */
async function waitUntil(n: number, read: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < n; i++) expect(await read(), `wait: read ${i + 1} of ${n}`).toBe(true);
}

// ── aws_kms_key (key.go) ──────────────────────────────────────────────────────────────────────
const keyConfig = { description: "Payment database password", tags: { team: "payments", data: "pci" }, rotationPeriodInDays: 365, deletionWindowInDays: 7 };

/** findKeyInfo: DescribeKey, GetKeyPolicy, GetKeyRotationStatus (Origin AWS_KMS), ListResourceTags. */
async function keyRead(keyId: string) {
  const md = (await aws<K.DescribeKeyResponse>(new K.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  const policy = (await aws<K.GetKeyPolicyResponse>(new K.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy!;
  const rotation = md.Origin === "AWS_KMS" ? await aws<K.GetKeyRotationStatusResponse>(new K.GetKeyRotationStatusCommand({ KeyId: keyId })) : undefined;
  const tags = (await aws<K.ListResourceTagsResponse>(new K.ListResourceTagsCommand({ KeyId: keyId }))).Tags ?? [];
  return { md, policy, rotation, tags: Object.fromEntries(tags.map((t) => [t.TagKey!, t.TagValue!])) };
}

const tagsNow = async (keyId: string) =>
  Object.fromEntries(((await aws<K.ListResourceTagsResponse>(new K.ListResourceTagsCommand({ KeyId: keyId }))).Tags ?? []).map((t) => [t.TagKey!, t.TagValue!]));

async function keyCreate(): Promise<string> {
  const out = await aws<K.CreateKeyResponse>(
    new K.CreateKeyCommand({
      BypassPolicyLockoutSafetyCheck: false,
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      Tags: Object.entries(keyConfig.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      Description: keyConfig.description,
    }),
  );
  const keyId = out.KeyMetadata!.KeyId!;
  // updateKeyRotationEnabled, then waitKeyRotationEnabledPropagated (5 consecutive reads).
  await aws(new K.EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: keyConfig.rotationPeriodInDays }));
  await waitUntil(5, async () => {
    const r = await aws<K.GetKeyRotationStatusResponse>(new K.GetKeyRotationStatusCommand({ KeyId: keyId }));
    return r.KeyRotationEnabled === true && r.RotationPeriodInDays === keyConfig.rotationPeriodInDays;
  });
  // waitTagsPropagated (5 consecutive reads), then the read.
  await waitUntil(5, async () => JSON.stringify(await tagsNow(keyId)) === JSON.stringify(keyConfig.tags));
  const k = await keyRead(keyId);
  expect(k.md).toMatchObject({ Description: keyConfig.description, Enabled: true, KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS" });
  expect(k.rotation).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
  return keyId;
}

// ── aws_kms_alias (alias.go) ──────────────────────────────────────────────────────────────────
/** FindAliasByName: ListAliases, every page, the entry with this name. */
async function aliasRead(name: string): Promise<K.AliasListEntry | undefined> {
  let marker: string | undefined;
  for (;;) {
    const page = await aws<K.ListAliasesResponse>(new K.ListAliasesCommand({ ...(marker !== undefined && { Marker: marker }) }));
    const found = page.Aliases?.find((a) => a.AliasName === name);
    if (found !== undefined) return found;
    if (page.Truncated !== true) return undefined;
    marker = page.NextMarker;
  }
}

// ── aws_kms_grant (grant.go) ──────────────────────────────────────────────────────────────────
/** findGrantByTwoPartKey: ListGrants(KeyId, Limit 100), every page, the entry with this grant id. */
async function grantRead(keyId: string, grantId: string): Promise<K.GrantListEntry | undefined> {
  let marker: string | undefined;
  let found: K.GrantListEntry | undefined;
  for (;;) {
    const page = await aws<K.ListGrantsResponse>(new K.ListGrantsCommand({ KeyId: keyId, Limit: 100, ...(marker !== undefined && { Marker: marker }) }));
    found ??= page.Grants?.find((g) => g.GrantId === grantId);
    if (page.Truncated !== true) return found;
    marker = page.NextMarker;
  }
}

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), aws: { region: "us-east-1", accountId: ACCOUNT } });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  endpoint = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  const init = (await app.http.inject({ method: "POST", url: "/v1/sys/init", headers: { "content-type": "application/json" }, payload: '{"shares":1,"threshold":1}' })).json();
  root = init.rootToken;
  await app.http.inject({ method: "POST", url: "/v1/sys/unseal", headers: { "content-type": "application/json" }, payload: JSON.stringify({ share: init.shares[0] }) });
  const native = async (method: string, url: string, body: unknown) =>
    (await app.http.inject({ method: method as "PUT", url, headers: { "x-tessera-token": root, "content-type": "application/json" }, payload: JSON.stringify(body) })).json();
  // Terraform manages keys; the roles its principals name are Tessera's (tessera role create).
  await native("PUT", "/v1/roles/payment-vm", { policies: [] });
  await native("PUT", "/v1/roles/payment-batch", { policies: [] });
  const key = await native("POST", "/v1/auth/access-keys", { role: "operator" });
  kms = new K.KMSClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
  for (const [name, role] of [["vm", "payment-vm"], ["batch", "payment-batch"]] as const) {
    const k = await native("POST", "/v1/auth/access-keys", { role });
    clients[name] = new K.KMSClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey }, maxAttempts: 1 });
  }
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});
const clients: Record<"vm" | "batch", K.KMSClient> = {} as never;

describe("examples/terraform replayed with the AWS SDK, call for call", () => {
  let keyId = "";
  let grantId = "";

  it("terraform apply: aws_kms_key, then aws_kms_alias, aws_kms_key_policy and aws_kms_grant", async () => {
    phase();
    keyId = await keyCreate();
    expect(phase()).toEqual([
      "CreateKey",
      "EnableKeyRotation",
      ...Array(5).fill("GetKeyRotationStatus"),
      ...Array(5).fill("ListResourceTags"),
      "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags",
    ]);

    // aws_kms_alias: CreateAlias, then the read (ListAliases).
    await aws(new K.CreateAliasCommand({ AliasName: "alias/payment-db", TargetKeyId: keyId }));
    const alias = await aliasRead("alias/payment-db");
    expect(alias).toMatchObject({ AliasArn: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/payment-db`, TargetKeyId: keyId });
    expect(phase()).toEqual(["CreateAlias", "ListAliases"]);

    // aws_kms_key_policy: PutKeyPolicy, waitKeyPolicyPropagated (5 reads), then findKey's read.
    await aws(new K.PutKeyPolicyCommand({ BypassPolicyLockoutSafetyCheck: false, KeyId: keyId, Policy: paymentPolicy(), PolicyName: "default" }));
    await waitUntil(5, async () => (await aws<K.GetKeyPolicyResponse>(new K.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy === paymentPolicy());
    expect((await keyRead(keyId)).policy).toBe(paymentPolicy());
    expect(phase()).toEqual(["PutKeyPolicy", ...Array(5).fill("GetKeyPolicy"), "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"]);

    // aws_kms_grant: CreateGrant, then the read (ListGrants, Limit 100).
    const g = await aws<K.CreateGrantResponse>(
      new K.CreateGrantCommand({
        GranteePrincipal: role("payment-batch"),
        KeyId: keyId,
        Operations: ["Encrypt", "GenerateDataKey", "DescribeKey"],
        Constraints: { EncryptionContextSubset: { app: "payment" } },
        Name: "payment-batch",
        RetiringPrincipal: role("payment-batch"),
      }),
    );
    grantId = g.GrantId!;
    expect(await grantRead(keyId, grantId)).toMatchObject({ Name: "payment-batch", GranteePrincipal: role("payment-batch"), Constraints: { EncryptionContextSubset: { app: "payment" } } });
    expect(phase()).toEqual(["CreateGrant", "ListGrants"]);

    // What the configuration means: the VMs decrypt under the key policy, the batch role encrypts under its grant.
    const c = await clients.batch.send(new K.EncryptCommand({ KeyId: "alias/payment-db", Plaintext: new TextEncoder().encode("db-password"), EncryptionContext: { app: "payment" } }));
    const p = await clients.vm.send(new K.DecryptCommand({ CiphertextBlob: c.CiphertextBlob!, EncryptionContext: { app: "payment" } }));
    expect(new TextDecoder().decode(p.Plaintext)).toBe("db-password");
    // Without the context the key policy's condition does not hold.
    await expect(clients.vm.send(new K.DecryptCommand({ CiphertextBlob: c.CiphertextBlob! }))).rejects.toMatchObject({ name: "AccessDeniedException" });
  });

  it("terraform plan (refresh): every resource's read, nothing to change", async () => {
    const k = await keyRead(keyId);
    expect(k.md.Description).toBe(keyConfig.description);
    expect(k.tags).toEqual(keyConfig.tags);
    expect((await aliasRead("alias/payment-db"))?.TargetKeyId).toBe(keyId);
    expect((await keyRead(keyId)).policy).toBe(paymentPolicy());
    expect((await grantRead(keyId, grantId))?.Operations?.sort()).toEqual(["DescribeKey", "Encrypt", "GenerateDataKey"]);
    expect(phase()).toEqual([
      "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags",
      "ListAliases",
      "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags",
      "ListGrants",
    ]);
  });

  it("terraform apply after an edit: description and tags of the key, a source range in the key policy", async () => {
    // resourceKeyUpdate: description (UpdateKeyDescription + 5 DescribeKey), then the tags
    // (UntagResource, TagResource, 5 ListResourceTags), then the read.
    await aws(new K.UpdateKeyDescriptionCommand({ Description: "Payment database password (PCI)", KeyId: keyId }));
    await waitUntil(5, async () => (await aws<K.DescribeKeyResponse>(new K.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description === "Payment database password (PCI)");
    await aws(new K.UntagResourceCommand({ KeyId: keyId, TagKeys: ["data"] }));
    await aws(new K.TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "compliance", TagValue: "pci-dss" }] }));
    await waitUntil(5, async () => JSON.stringify(await tagsNow(keyId)) === JSON.stringify({ team: "payments", compliance: "pci-dss" }));
    await keyRead(keyId);
    // resourceKeyPolicyUpdate: PutKeyPolicy, 5 GetKeyPolicy, the read.
    await aws(new K.PutKeyPolicyCommand({ BypassPolicyLockoutSafetyCheck: false, KeyId: keyId, Policy: paymentPolicy("127.0.0.0/8"), PolicyName: "default" }));
    await waitUntil(5, async () => (await aws<K.GetKeyPolicyResponse>(new K.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy === paymentPolicy("127.0.0.0/8"));
    await keyRead(keyId);
    expect(phase()).toEqual([
      "UpdateKeyDescription", ...Array(5).fill("DescribeKey"),
      "UntagResource", "TagResource", ...Array(5).fill("ListResourceTags"),
      "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags",
      "PutKeyPolicy", ...Array(5).fill("GetKeyPolicy"),
      "DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags",
    ]);
  });

  it("terraform destroy: grant, key policy and alias, then the key", async () => {
    // aws_kms_grant: RevokeGrant (retire_on_delete = false), then ListGrants until it is gone.
    await aws(new K.RevokeGrantCommand({ GrantId: grantId, KeyId: keyId }));
    expect(await grantRead(keyId, grantId)).toBeUndefined();
    // aws_kms_key_policy: the provider's default policy put back (account id empty), 5 GetKeyPolicy.
    await aws(new K.PutKeyPolicyCommand({ BypassPolicyLockoutSafetyCheck: false, KeyId: keyId, Policy: providerDefaultPolicy, PolicyName: "default" }));
    await waitUntil(5, async () => (await aws<K.GetKeyPolicyResponse>(new K.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy === providerDefaultPolicy);
    // aws_kms_alias: DeleteAlias.
    await aws(new K.DeleteAliasCommand({ AliasName: "alias/payment-db" }));
    // aws_kms_key: ScheduleKeyDeletion, then waitKeyDeleted: DescribeKey until the key is PendingDeletion.
    const scheduled = await aws<K.ScheduleKeyDeletionResponse>(new K.ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: keyConfig.deletionWindowInDays }));
    expect(scheduled.KeyState).toBe("PendingDeletion");
    expect((await aws<K.DescribeKeyResponse>(new K.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("PendingDeletion");
    expect(phase()).toEqual(["RevokeGrant", "ListGrants", "PutKeyPolicy", ...Array(5).fill("GetKeyPolicy"), "DeleteAlias", "ScheduleKeyDeletion", "DescribeKey"]);
    // The key policy's roles lost their access with it; nobody decrypts any more.
    const role = (await app.http.inject({ method: "GET", url: "/v1/roles/payment-vm", headers: { "x-tessera-token": root } })).json();
    expect(role.policies).toEqual([]);
  });
});
