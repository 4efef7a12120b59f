/**
 * The official @aws-sdk/client-kms against Tessera's asymmetric keys, unchanged apart from endpoint
 * and credentials: CreateKey with KeySpec/KeyUsage, Sign/Verify (RAW and DIGEST), GetPublicKey,
 * Encrypt/Decrypt with RSAES_OAEP, GenerateDataKeyPair(+WithoutPlaintext), DeriveSharedSecret, and
 * AWS's exception names for usage errors and invalid signatures.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, verify, constants, publicEncrypt } from "node:crypto";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
  type KeySpec,
  type KeyUsageType,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsError, startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let kms: KMSClient;
beforeAll(async () => {
  t = await startAwsTestApp();
  kms = await t.kmsFor("operator");
});
afterAll(async () => {
  await t?.close();
});

const message = Buffer.from("a message signed through the AWS API");
const create = async (KeySpec: KeySpec, KeyUsage: KeyUsageType) => (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage }))).KeyMetadata!;
const spki = (der: Uint8Array) => createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });

describe("asymmetric keys through the AWS SDK", () => {
  it("CreateKey and DescribeKey carry KeySpec, KeyUsage and the algorithm list", async () => {
    const k = await create("ECC_NIST_P384", "SIGN_VERIFY");
    expect(k).toMatchObject({ KeySpec: "ECC_NIST_P384", KeyUsage: "SIGN_VERIFY", SigningAlgorithms: ["ECDSA_SHA_384"] });
    const d = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!;
    expect(d).toMatchObject({ KeySpec: "ECC_NIST_P384", KeyUsage: "SIGN_VERIFY", CustomerMasterKeySpec: "ECC_NIST_P384" });
    const rsa = await create("RSA_2048", "ENCRYPT_DECRYPT");
    expect(rsa.EncryptionAlgorithms).toEqual(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
    expect(await awsError(kms.send(new CreateKeyCommand({ KeySpec: "RSA_2048" })))).toBe("ValidationException");
    expect(await awsError(kms.send(new CreateKeyCommand({ KeySpec: "ECC_SECG_P256K1", KeyUsage: "KEY_AGREEMENT" })))).toBe("ValidationException");
    expect(await awsError(kms.send(new CreateKeyCommand({ KeySpec: "ML_KEM_768", KeyUsage: "ENCAPSULATE_DECAPSULATE" })))).toBe("UnsupportedOperationException");
  });

  it.each([
    ["RSA_2048", "RSASSA_PSS_SHA_256", "sha256"],
    ["RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384", "sha384"],
    ["ECC_NIST_P256", "ECDSA_SHA_256", "sha256"],
    ["ECC_SECG_P256K1", "ECDSA_SHA_256", "sha256"],
    ["ECC_NIST_P521", "ECDSA_SHA_512", "sha512"],
  ] as const)("%s %s: Sign (RAW and DIGEST) → Verify, and GetPublicKey's key verifies both", async (spec, SigningAlgorithm, hash) => {
    const k = await create(spec, "SIGN_VERIFY");
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: k.KeyId }));
    expect(pub).toMatchObject({ KeySpec: spec, KeyUsage: "SIGN_VERIFY" });
    expect(pub.SigningAlgorithms).toContain(SigningAlgorithm);
    const publicKey = spki(pub.PublicKey!);
    const opts = SigningAlgorithm.startsWith("RSASSA_PSS")
      ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : SigningAlgorithm.startsWith("RSASSA") ? { key: publicKey, padding: constants.RSA_PKCS1_PADDING } : { key: publicKey, dsaEncoding: "der" as const };
    for (const [MessageType, Message] of [["RAW", message], ["DIGEST", createHash(hash).update(message).digest()]] as const) {
      const signed = await kms.send(new SignCommand({ KeyId: k.KeyId, Message, MessageType, SigningAlgorithm }));
      expect(signed.SigningAlgorithm).toBe(SigningAlgorithm);
      expect(signed.KeyId).toBe(k.Arn);
      expect(verify(hash, message, opts, Buffer.from(signed.Signature!))).toBe(true);
      const v = await kms.send(new VerifyCommand({ KeyId: k.KeyId, Message, MessageType, SigningAlgorithm, Signature: signed.Signature }));
      expect(v.SignatureValid).toBe(true);
      const bad = Buffer.from(signed.Signature!);
      bad[bad.length - 3]! ^= 1;
      expect(await awsError(kms.send(new VerifyCommand({ KeyId: k.KeyId, Message, MessageType, SigningAlgorithm, Signature: bad })))).toBe("KMSInvalidSignatureException");
    }
  });

  it("Ed25519 (ECC_NIST_EDWARDS25519) and ML-DSA sign RAW messages through the SDK", async () => {
    for (const [spec, SigningAlgorithm] of [["ECC_NIST_EDWARDS25519", "ED25519_SHA_512"], ["ML_DSA_44", "ML_DSA_SHAKE_256"]] as const) {
      const k = await create(spec, "SIGN_VERIFY");
      const signed = await kms.send(new SignCommand({ KeyId: k.KeyId, Message: message, MessageType: "RAW", SigningAlgorithm }));
      const pub = spki((await kms.send(new GetPublicKeyCommand({ KeyId: k.KeyId }))).PublicKey!);
      expect(verify(null, message, pub, Buffer.from(signed.Signature!))).toBe(true);
      expect((await kms.send(new VerifyCommand({ KeyId: k.KeyId, Message: message, SigningAlgorithm, Signature: signed.Signature }))).SignatureValid).toBe(true);
      expect(await awsError(kms.send(new SignCommand({ KeyId: k.KeyId, Message: createHash("sha512").update(message).digest(), MessageType: "DIGEST", SigningAlgorithm })))).toBe("ValidationException");
    }
  });

  it("usage and algorithm errors are InvalidKeyUsageException", async () => {
    const signer = await create("ECC_NIST_P256", "SIGN_VERIFY");
    const rsa = await create("RSA_2048", "ENCRYPT_DECRYPT");
    const symmetric = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    for (const call of [
      new SignCommand({ KeyId: signer.KeyId, Message: message, SigningAlgorithm: "ECDSA_SHA_384" }),
      new SignCommand({ KeyId: rsa.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
      new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: Buffer.from("x") }),
      new EncryptCommand({ KeyId: signer.KeyId, Plaintext: Buffer.from("x"), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }),
      new GenerateDataKeyPairCommand({ KeyId: rsa.KeyId, KeyPairSpec: "ECC_NIST_P256" }),
      new GetPublicKeyCommand({ KeyId: symmetric.KeyId }),
    ]) {
      expect(await awsError(kms.send(call as never)), call.constructor.name).toBe("InvalidKeyUsageException");
    }
  });

  it("Encrypt/Decrypt with RSAES_OAEP_SHA_1 and _SHA_256; outside OAEP ciphertexts to GetPublicKey's key decrypt", async () => {
    const k = await create("RSA_4096", "ENCRYPT_DECRYPT");
    const publicKey = spki((await kms.send(new GetPublicKeyCommand({ KeyId: k.KeyId }))).PublicKey!);
    for (const [EncryptionAlgorithm, oaepHash] of [["RSAES_OAEP_SHA_1", "sha1"], ["RSAES_OAEP_SHA_256", "sha256"]] as const) {
      const enc = await kms.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from("hello"), EncryptionAlgorithm }));
      expect(enc.EncryptionAlgorithm).toBe(EncryptionAlgorithm);
      const dec = await kms.send(new DecryptCommand({ KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm }));
      expect([Buffer.from(dec.Plaintext!).toString(), dec.EncryptionAlgorithm, dec.KeyId]).toEqual(["hello", EncryptionAlgorithm, k.Arn]);
      const outside = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from("outside"));
      expect(Buffer.from((await kms.send(new DecryptCommand({ KeyId: k.KeyId, CiphertextBlob: outside, EncryptionAlgorithm }))).Plaintext!).toString()).toBe("outside");
    }
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.alloc(512, 1), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })))).toBe("ValidationException");
    expect(await awsError(kms.send(new DecryptCommand({ KeyId: k.KeyId, CiphertextBlob: Buffer.alloc(512, 1), EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })))).toBe("InvalidCiphertextException");
  });

  it("GenerateDataKeyPair(+WithoutPlaintext): a PKCS#8 private key matching PublicKey, decryptable with the context", async () => {
    const wrapping = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const EncryptionContext = { tenant: "t1" };
    for (const KeyPairSpec of ["RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"] as const) {
      const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: wrapping.KeyId, KeyPairSpec, EncryptionContext }));
      expect([pair.KeyPairSpec, pair.KeyId]).toEqual([KeyPairSpec, wrapping.Arn]);
      const privateKey = createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext!), format: "der", type: "pkcs8" });
      expect(createPublicKey(privateKey).export({ type: "spki", format: "der" }).equals(Buffer.from(pair.PublicKey!))).toBe(true);
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext }));
      expect(Buffer.from(opened.Plaintext!).equals(Buffer.from(pair.PrivateKeyPlaintext!))).toBe(true);
    }
    const without = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: wrapping.KeyId, KeyPairSpec: "ECC_NIST_P384" }));
    expect(without).not.toHaveProperty("PrivateKeyPlaintext");
    expect(spki(without.PublicKey!).asymmetricKeyDetails).toMatchObject({ namedCurve: "secp384r1" });
  });

  it("DeriveSharedSecret: the secret the peer derives with Tessera's public key", async () => {
    const k = await create("ECC_NIST_P256", "KEY_AGREEMENT");
    expect(k.KeyAgreementAlgorithms).toEqual(["ECDH"]);
    const peer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const r = await kms.send(new DeriveSharedSecretCommand({ KeyId: k.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: peer.publicKey.export({ type: "spki", format: "der" }) }));
    const ours = spki((await kms.send(new GetPublicKeyCommand({ KeyId: k.KeyId }))).PublicKey!);
    expect(Buffer.from(r.SharedSecret!).equals(diffieHellman({ privateKey: peer.privateKey, publicKey: ours }))).toBe(true);
    expect(r.KeyAgreementAlgorithm).toBe("ECDH");
    const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "der" });
    expect(await awsError(kms.send(new DeriveSharedSecretCommand({ KeyId: k.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: other })))).toBe("ValidationException");
  });
});
