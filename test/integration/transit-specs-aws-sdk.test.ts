/**
 * Tessera's AES_128 and CHACHA20_POLY1305 key specs (Vault's aes128-gcm96 and chacha20-poly1305)
 * through the official AWS SDK, served as SM4 is: CreateKey with the spec passed through the SDK's
 * enum, DescribeKey naming it with SYMMETRIC_DEFAULT, Encrypt/Decrypt writing format v4, tampering
 * refused as InvalidCiphertextException, and no public key (InvalidKeyUsageException, as for SYMMETRIC_DEFAULT keys; docs/aws-compatibility.md).
 */
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetPublicKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let admin: KMSClient;
beforeAll(async () => {
  t = await startAwsTestApp();
  admin = t.kms(await t.call("POST", "/v1/auth/access-keys", { role: "operator" }).then((r) => r.body));
});
afterAll(async () => {
  await t?.close();
});

describe.each([
  ["AES_128", 0x06],
  ["CHACHA20_POLY1305", 0x08],
] as const)("%s keys through the AWS SDK", (spec, algorithmId) => {
  it("CreateKey → DescribeKey, Encrypt/Decrypt with a context, tampering is InvalidCiphertextException, no public key", async () => {
    const k = (await admin.send(new CreateKeyCommand({ KeySpec: spec as "SYMMETRIC_DEFAULT" }))).KeyMetadata!;
    expect(k).toMatchObject({ KeySpec: spec, KeyUsage: "ENCRYPT_DECRYPT", EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"] });
    expect((await admin.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata).toMatchObject({ KeySpec: spec, Enabled: true });
    const EncryptionContext = { tenant: "t-1" };
    const enc = await admin.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from("aws plaintext"), EncryptionContext }));
    expect(Array.from(enc.CiphertextBlob!.subarray(0, 3))).toEqual([0x54, 4, algorithmId]);
    const dec = await admin.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext }));
    expect([Buffer.from(dec.Plaintext!).toString(), dec.EncryptionAlgorithm]).toEqual(["aws plaintext", "SYMMETRIC_DEFAULT"]);
    const bad = Buffer.from(enc.CiphertextBlob!);
    bad[bad.length - 1]! ^= 1;
    await expect(admin.send(new DecryptCommand({ CiphertextBlob: bad, EncryptionContext }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
    await expect(admin.send(new GetPublicKeyCommand({ KeyId: k.KeyId }))).rejects.toMatchObject({ name: "InvalidKeyUsageException" });
  });
});
