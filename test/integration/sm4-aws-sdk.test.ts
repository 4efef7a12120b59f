/**
 * SM keys through the official AWS SDK: CreateKey with Tessera's KeySpec "SM4" (passed through the
 * SDK's enum), then Encrypt, Decrypt, GenerateDataKey and ReEncrypt with SYMMETRIC_DEFAULT exactly as
 * for an AES key — the CiphertextBlob is format v3 (SM4-GCM) and crosses to the native API; and SM2
 * keys with AWS's China-Region names (SM2DSA with the default id, SM2PKE), checked by the native API.
 */
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  ReEncryptCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
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

describe("SM4 keys through the AWS SDK", () => {
  it("CreateKey SM4 → DescribeKey, Encrypt/Decrypt with a context, GenerateDataKey, ReEncrypt to an AES key and back", async () => {
    const sm4 = (await admin.send(new CreateKeyCommand({ KeySpec: "SM4" as "SYMMETRIC_DEFAULT" }))).KeyMetadata!.KeyId!;
    const aes = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    expect((await admin.send(new DescribeKeyCommand({ KeyId: sm4 }))).KeyMetadata).toMatchObject({
      KeySpec: "SM4",
      KeyUsage: "ENCRYPT_DECRYPT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    });
    const EncryptionContext = { tenant: "t-1" };
    const enc = await admin.send(new EncryptCommand({ KeyId: sm4, Plaintext: Buffer.from("国密"), EncryptionContext }));
    expect(Array.from(enc.CiphertextBlob!.subarray(0, 3))).toEqual([0x54, 3, 5]);
    const dec = await admin.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext }));
    expect([Buffer.from(dec.Plaintext!).toString(), dec.KeyId, dec.EncryptionAlgorithm]).toEqual(["国密", expect.stringContaining(sm4), "SYMMETRIC_DEFAULT"]);
    const native = await t.call("POST", "/v1/decrypt", { ciphertext: Buffer.from(enc.CiphertextBlob!).toString("base64"), context: EncryptionContext });
    expect(Buffer.from(native.body.plaintext, "base64").toString()).toBe("国密");

    const dk = await admin.send(new GenerateDataKeyCommand({ KeyId: sm4, KeySpec: "AES_128" }));
    expect(dk.Plaintext).toHaveLength(16);
    const toAes = await admin.send(new ReEncryptCommand({ CiphertextBlob: dk.CiphertextBlob!, DestinationKeyId: aes }));
    expect(Array.from(toAes.CiphertextBlob!.subarray(0, 3))).toEqual([0x54, 2, 3]);
    const back = await admin.send(new ReEncryptCommand({ CiphertextBlob: toAes.CiphertextBlob!, DestinationKeyId: sm4 }));
    expect(Array.from(back.CiphertextBlob!.subarray(0, 3))).toEqual([0x54, 3, 5]);
    expect(Buffer.from((await admin.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob! }))).Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
  });
});

describe("SM2 keys through the AWS SDK", () => {
  it("SM2DSA: Sign → Verify (and the native API agrees with the default id); a changed message is KMSInvalidSignatureException", async () => {
    const k = (await admin.send(new CreateKeyCommand({ KeySpec: "SM2", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!;
    expect(k).toMatchObject({ KeySpec: "SM2", SigningAlgorithms: ["SM2DSA"] });
    const Message = Buffer.from("国密签名");
    const signed = await admin.send(new SignCommand({ KeyId: k.KeyId, Message, SigningAlgorithm: "SM2DSA" }));
    const ok = await admin.send(new VerifyCommand({ KeyId: k.KeyId, Message, Signature: signed.Signature, SigningAlgorithm: "SM2DSA" }));
    expect(ok.SignatureValid).toBe(true);
    const signature = Buffer.from(signed.Signature!).toString("base64");
    const native = (signerId?: string) =>
      t.call("POST", `/v1/keys/${k.KeyId}/verify`, { message: Message.toString("base64"), signingAlgorithm: "SM2DSA", signature, ...(signerId === undefined ? {} : { signerId }) });
    expect((await native()).body.signatureValid).toBe(true);
    expect((await native("1234567812345678")).body.signatureValid).toBe(true);
    expect((await native("another-id")).body.signatureValid).toBe(false);
    const refused = admin.send(new VerifyCommand({ KeyId: k.KeyId, Message: Buffer.from("changed"), Signature: signed.Signature, SigningAlgorithm: "SM2DSA" }));
    await expect(refused).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
    const pub = await admin.send(new GetPublicKeyCommand({ KeyId: k.KeyId }));
    expect(pub).toMatchObject({ KeySpec: "SM2", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["SM2DSA"] });
  });

  it("SM2PKE: Encrypt → Decrypt; a tampered blob is InvalidCiphertextException", async () => {
    const k = (await admin.send(new CreateKeyCommand({ KeySpec: "SM2", KeyUsage: "ENCRYPT_DECRYPT" }))).KeyMetadata!;
    const enc = await admin.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from("国密"), EncryptionAlgorithm: "SM2PKE" }));
    const dec = await admin.send(new DecryptCommand({ KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "SM2PKE" }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe("国密");
    const bad = Buffer.from(enc.CiphertextBlob!);
    bad[bad.length - 1]! ^= 1;
    await expect(admin.send(new DecryptCommand({ KeyId: k.KeyId, CiphertextBlob: bad, EncryptionAlgorithm: "SM2PKE" }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });
});
