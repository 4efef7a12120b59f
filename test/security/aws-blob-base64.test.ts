/**
 * Issue 8, item 9: blob fields (Plaintext, CiphertextBlob) must be strict standard base64 — not
 * whatever a lenient decoder makes of `hello world` — and an empty Plaintext or CiphertextBlob is
 * refused, as AWS requires at least one byte. Each is a ValidationException, and nothing is encrypted.
 */
import { DecryptCommand, EncryptCommand, KMSClient, ReEncryptCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "@tessera/server";
import { send, signedHeaders, startListening, type Credentials, type ListeningApp } from "../helpers/raw-http.js";

let t: ListeningApp;
let creds: Credentials;
let sdk: KMSClient;

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  // The real clock: the SDK corrects its own clock from the Date of error answers.
  t = await startListening(systemClock);
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  await t.native("POST", "/v1/keys", { name: "orders" });
  sdk = new KMSClient({ region: "us-east-1", endpoint: t.endpoint, credentials: creds, maxAttempts: 1 });
});
afterAll(async () => t.close());

async function awsCall(target: string, body: object) {
  const text = JSON.stringify(body);
  const res = await send(t.port, "POST", "/", await signedHeaders(t.port, creds, { target, body: text, at: Date.now() }), text);
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
}

const nameOf = async (p: Promise<unknown>) => p.then(() => "no error", (err: { name: string }) => err.name);

describe("AWS blob fields are strict base64", () => {
  it("refuses Plaintext that is not canonical standard base64, and encrypts nothing", async () => {
    const before = (await t.native("GET", "/v1/audit/entries?action=kms:Encrypt&limit=1000")).body.records.length;
    for (const plaintext of ["hello world", "aGVsbG8", "aGVsbG8==", "aGVsbG9=", "aGVs bG8=", "aGVs-G8=", "aGVsbG8=\n", "\u00e9A=="]) {
      const r = await awsCall("TrentService.Encrypt", { KeyId: "alias/orders", Plaintext: plaintext });
      expect([plaintext, r.status, r.body["__type"]]).toEqual([plaintext, 400, "ValidationException"]);
    }
    // Refused before the door: no encryption happened (no kms:Encrypt record at all).
    expect((await t.native("GET", "/v1/audit/entries?action=kms:Encrypt&limit=1000")).body.records.length).toBe(before);
    // The canonical encoding of the same bytes works.
    expect((await awsCall("TrentService.Encrypt", { KeyId: "alias/orders", Plaintext: "aGVsbG8=" })).status).toBe(200);
  });

  it("refuses an empty Plaintext (AWS requires at least one byte), also from the official SDK", async () => {
    const r = await awsCall("TrentService.Encrypt", { KeyId: "alias/orders", Plaintext: "" });
    expect([r.status, r.body["__type"]]).toEqual([400, "ValidationException"]);
    expect(await nameOf(sdk.send(new EncryptCommand({ KeyId: "alias/orders", Plaintext: new Uint8Array(0) })))).toBe("ValidationException");
    expect((await sdk.send(new EncryptCommand({ KeyId: "alias/orders", Plaintext: new Uint8Array([1]) }))).CiphertextBlob!.length).toBeGreaterThan(1);
  });

  it("refuses a CiphertextBlob that is not strict base64, or empty, in Decrypt and ReEncrypt", async () => {
    const enc = await sdk.send(new EncryptCommand({ KeyId: "alias/orders", Plaintext: new TextEncoder().encode("card") }));
    const good = Buffer.from(enc.CiphertextBlob!).toString("base64");
    const urlSafe = good.replaceAll("+", "-").replaceAll("/", "_");
    for (const blob of [good.replace(/=+$/, ""), ` ${good}`, `${good}AAAA`.slice(0, -3) + "!", "", urlSafe === good ? `${good}*` : urlSafe]) {
      const d = await awsCall("TrentService.Decrypt", { CiphertextBlob: blob });
      expect([blob, d.status, d.body["__type"]]).toEqual([blob, 400, "ValidationException"]);
      const re = await awsCall("TrentService.ReEncrypt", { CiphertextBlob: blob, DestinationKeyId: "alias/orders" });
      expect([blob, re.status, re.body["__type"]]).toEqual([blob, 400, "ValidationException"]);
    }
    expect(await nameOf(sdk.send(new DecryptCommand({ CiphertextBlob: new Uint8Array(0) })))).toBe("ValidationException");
    expect(await nameOf(sdk.send(new ReEncryptCommand({ CiphertextBlob: new Uint8Array(0), DestinationKeyId: "alias/orders" })))).toBe("ValidationException");
    expect(new TextDecoder().decode((await sdk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext)).toBe("card");
  });
});
