/**
 * Issue 8, item 13: AWS KMS's CancelKeyDeletion leaves the key Disabled (AWS documents it so that a
 * key you meant to delete is not silently back in use); the native API keeps restoring the state the
 * key had before. Cancelling needs kms:CancelKeyDeletion only — not kms:DisableKey.
 */
import { CancelKeyDeletionCommand, DescribeKeyCommand, EncryptCommand, KMSClient, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "@tessera/server";
import { startListening, type ListeningApp } from "../helpers/raw-http.js";

let t: ListeningApp;
let deleter: KMSClient;

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  t = await startListening(systemClock);
  await t.native("PUT", "/v1/policies/deleter", {
    statements: [{ effect: "allow", actions: ["kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DescribeKey", "kms:Encrypt"], resources: ["orders-*"] }],
  });
  await t.native("PUT", "/v1/roles/deleter", { policies: ["deleter"] });
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "deleter" });
  deleter = new KMSClient({ region: "us-east-1", endpoint: t.endpoint, credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey }, maxAttempts: 1 });
});
afterAll(async () => t.close());

const nameOf = async (p: Promise<unknown>) => p.then(() => "no error", (err: { name: string }) => err.name);

describe("CancelKeyDeletion", () => {
  it("through the AWS API leaves an enabled key Disabled, with only kms:CancelKeyDeletion granted", async () => {
    const { keyId } = (await t.native("POST", "/v1/keys", { name: "orders-aws" })).body as { keyId: string };
    const scheduled = await deleter.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled.KeyState).toBe("PendingDeletion");
    const cancelled = await deleter.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(cancelled.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    const md = (await deleter.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(md).toMatchObject({ KeyState: "Disabled", Enabled: false });
    expect(md.DeletionDate).toBeUndefined();
    expect(await nameOf(deleter.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1]) })))).toBe("DisabledException");
  });

  it("through the native API restores the state before scheduling", async () => {
    for (const prior of ["Enabled", "Disabled"] as const) {
      const { keyId } = (await t.native("POST", "/v1/keys", { name: `orders-native-${prior}` })).body as { keyId: string };
      if (prior === "Disabled") await t.native("POST", `/v1/keys/${keyId}/disable`, {});
      await t.native("POST", `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowDays: 7 });
      const r = await t.native("POST", `/v1/keys/${keyId}/cancel-deletion`, {});
      expect([r.status, r.body.state]).toEqual([200, prior]);
    }
  });
});
