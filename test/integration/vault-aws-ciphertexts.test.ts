/**
 * A `vault:vN:` ciphertext from the Vault API decrypts through the AWS API (official SDK) once its
 * prefix is taken off, and an AWS ciphertext decrypts through transit once prefixed with its key
 * version (docs/vault-compatibility.md, "Ciphertexts").
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let kms: KMSClient;

async function vault(path: string, body: unknown) {
  const res = await t.app.http.inject({ method: "POST", url: `/v1/${path}`, headers: { "x-vault-token": t.rootToken }, payload: JSON.stringify(body) });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

beforeAll(async () => {
  t = await startAwsTestApp();
  kms = await t.kmsFor("operator");
  expect((await vault("transit/keys/shared", {})).status).toBe(200);
});
afterAll(async () => t.close());

describe("ciphertexts between the Vault and AWS APIs", () => {
  it("a transit ciphertext decrypts through the AWS SDK", async () => {
    const enc = await vault("transit/encrypt/shared", { plaintext: Buffer.from("to aws").toString("base64") });
    const blob = Buffer.from(enc.body.data.ciphertext.replace(/^vault:v1:/, ""), "base64");
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(Buffer.from(out.Plaintext!).toString()).toBe("to aws");
  });

  it("an AWS ciphertext decrypts through transit as vault:v1:", async () => {
    const out = await kms.send(new EncryptCommand({ KeyId: "alias/shared", Plaintext: Buffer.from("from aws") }));
    const r = await vault("transit/decrypt/shared", { ciphertext: `vault:v1:${Buffer.from(out.CiphertextBlob!).toString("base64")}` });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body.data.plaintext, "base64").toString()).toBe("from aws");
  });

  it("an AWS ciphertext with an encryption context needs it as Vault's associated_data entry", async () => {
    const aad = Buffer.from("order-7").toString("base64");
    const out = await kms.send(new EncryptCommand({ KeyId: "alias/shared", Plaintext: Buffer.from("bound"), EncryptionContext: { "vault:associated_data": aad } }));
    const ct = `vault:v1:${Buffer.from(out.CiphertextBlob!).toString("base64")}`;
    expect((await vault("transit/decrypt/shared", { ciphertext: ct })).status).toBe(400);
    const r = await vault("transit/decrypt/shared", { ciphertext: ct, associated_data: aad });
    expect(Buffer.from(r.body.data.plaintext, "base64").toString()).toBe("bound");
  });
});
