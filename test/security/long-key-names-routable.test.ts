/**
 * Issue 8, item 13: keys may be named up to 128 characters, alias names up to 256 — and every name the
 * API accepts must work in every route, including as `alias/NAME` and percent-encoded. (Fastify's
 * default maxParamLength of 100 answered 414 for them.)
 */
import { CreateAliasCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "@tessera/server";
import { startListening, type ListeningApp } from "../helpers/raw-http.js";

// 128 characters, using every character a name may hold (/ + = @ are percent-encoded in a path).
const NAME = `k${"az09/_+=.@-".repeat(12)}`.slice(0, 128);
const ALIAS = `alias/${"a/b_c-".repeat(42)}`.slice(0, 256);
let t: ListeningApp;
let sdk: KMSClient;

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  t = await startListening(systemClock);
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  sdk = new KMSClient({ region: "us-east-1", endpoint: t.endpoint, credentials: { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey }, maxAttempts: 1 });
});
afterAll(async () => t.close());

describe("the longest names the API accepts work in every route", () => {
  it("a 128-character key name, by name and as alias/NAME, through every native key route", async () => {
    expect(NAME).toHaveLength(128);
    const created = await t.native("POST", "/v1/keys", { name: NAME });
    expect(created.status).toBe(201);
    const keyId = created.body.keyId as string;

    for (const ref of [NAME, `alias/${NAME}`]) {
      const k = `/v1/keys/${encodeURIComponent(ref)}`;
      const calls: [string, string, unknown, number][] = [
        ["GET", k, undefined, 200],
        ["PATCH", k, { description: "long" }, 200],
        ["POST", `${k}/rotate`, {}, 200],
        ["GET", `${k}/versions`, undefined, 200],
        ["POST", `${k}/versions/1/disable`, {}, 200],
        ["POST", `${k}/versions/1/enable`, {}, 200],
        ["POST", `${k}/min-decryption-version`, { minDecryptionVersion: 1 }, 200],
        ["POST", `${k}/min-encryption-version`, { minEncryptionVersion: 0 }, 200],
        ["POST", `${k}/encrypt`, { plaintext: "aGk=" }, 200],
        ["POST", `${k}/generate-data-key`, { keySpec: "AES_256" }, 200],
        ["POST", `${k}/generate-data-key-without-plaintext`, { numberOfBytes: 16 }, 200],
        ["POST", `${k}/derive`, { context: { vm: "web-1" } }, 200],
        ["POST", `${k}/disable`, {}, 200],
        ["POST", `${k}/enable`, {}, 200],
        ["POST", `${k}/schedule-deletion`, { pendingWindowDays: 7 }, 200],
        ["POST", `${k}/cancel-deletion`, {}, 200],
      ];
      for (const [method, url, body, status] of calls) {
        const r = await t.native(method, url, body);
        expect([method, url.slice(url.lastIndexOf("/")), r.status, r.body?.error?.code]).toEqual([method, url.slice(url.lastIndexOf("/")), status, undefined]);
        if (url === k && method === "GET") expect(r.body.keyId).toBe(keyId);
      }
      const enc = await t.native("POST", `${k}/encrypt`, { plaintext: "aGk=" });
      const dec = await t.native("POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext, keyId: ref });
      expect([dec.status, dec.body.plaintext]).toEqual([200, "aGk="]);
      const re = await t.native("POST", "/v1/reencrypt", { ciphertext: enc.body.ciphertext, sourceKeyId: ref, destinationKeyId: ref });
      expect(re.status).toBe(200);
    }
  });

  it("the same name and a 256-character alias through the AWS API, and the alias in native routes", async () => {
    expect(ALIAS).toHaveLength(256);
    const arn = `arn:aws:kms:us-east-1:000000000000:alias/${NAME}`;
    for (const keyId of [NAME, `alias/${NAME}`, arn]) {
      expect((await sdk.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState).toBe("Enabled");
    }
    const enc = await sdk.send(new EncryptCommand({ KeyId: arn, Plaintext: new Uint8Array([7, 7]) }));
    expect([...(await sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: `alias/${NAME}` }))).Plaintext!]).toEqual([7, 7]);

    await sdk.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: NAME }));
    expect((await sdk.send(new DescribeKeyCommand({ KeyId: ALIAS }))).KeyMetadata!.KeyState).toBe("Enabled");
    const r = await t.native("GET", `/v1/keys/${encodeURIComponent(ALIAS)}`);
    expect([r.status, r.body.name]).toEqual([200, NAME]);
    const e = await t.native("POST", `/v1/keys/${encodeURIComponent(ALIAS)}/encrypt`, { plaintext: "aGk=" });
    expect(e.status).toBe(200);
  });

  it("a parameter longer than any accepted name is a documented InvalidInput, not Fastify's 414", async () => {
    const r = await t.native("GET", `/v1/keys/${"k".repeat(257)}`);
    expect([r.status, r.body.error.code]).toEqual([400, "InvalidInput"]);
  });
});
