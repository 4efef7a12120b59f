/**
 * The native API's asymmetric operations end to end (in-process app, real SQLite): round trips per
 * spec and algorithm, tampering, wrong keys and algorithms, usage errors with exact codes, rotation
 * (old versions still verify and decrypt; new signatures name the new version), data key pairs, ECDH,
 * and audit records that name key id and version but never the message.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, publicEncrypt, constants, verify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { algorithmsFor, asymmetricKeySpecs, signingAlgorithms, type AsymmetricKeySpec, type MessageType, type SigningAlgorithm } from "@tessera/protocol";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const message = Buffer.from("pay 10 EUR to account 42");
const hashOf = (a: string) => (a === "SM2DSA" ? "sm3" : a.endsWith("256") ? "sha256" : a.endsWith("384") ? "sha384" : "sha512");
const created = new Set<string>();

/** A key of `spec` for `usage`, created once per test file. */
async function key(spec: AsymmetricKeySpec, usage: "SIGN_VERIFY" | "ENCRYPT_DECRYPT" | "KEY_AGREEMENT"): Promise<string> {
  const name = `${spec.toLowerCase()}-${usage.toLowerCase()}`.replaceAll("_", "-");
  if (!created.has(name)) {
    const r = await t.call("POST", "/v1/keys", { name, keySpec: spec, keyUsage: usage });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    created.add(name);
  }
  return name;
}

const signingCases = asymmetricKeySpecs.flatMap((spec) =>
  algorithmsFor(spec, "SIGN_VERIFY").flatMap((algorithm) =>
    (signingAlgorithms[algorithm].messageTypes as readonly MessageType[]).map((type) => [spec, algorithm, type] as const),
  ),
);

describe("Sign and Verify", () => {
  it.each(signingCases)("%s %s %s: signs, verifies, and refuses a changed message or signature", async (spec, algorithm, messageType) => {
    const name = await key(spec, "SIGN_VERIFY");
    const input = messageType === "RAW" ? message : createHash(hashOf(algorithm)).update(message).digest();
    const body = { message: b64(input), messageType, signingAlgorithm: algorithm };
    const signed = await t.call("POST", `/v1/keys/${name}/sign`, body);
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body).toMatchObject({ keyVersion: 1, signingAlgorithm: algorithm });

    // The signature is the standard one: node:crypto verifies it with the public key from GetPublicKey.
    const pub = (await t.call("GET", `/v1/keys/${name}/public-key`)).body;
    const publicKey = createPublicKey({ key: Buffer.from(pub.publicKey, "base64"), format: "der", type: "spki" });
    const signature = Buffer.from(signed.body.signature, "base64");
    // (SM2DSA, which node:crypto cannot verify with the standard id, is checked by openssl in sm2-api.test.ts.)
    if (algorithm !== "SM2DSA") {
      const nodeAlgorithm = spec === "ECC_NIST_EDWARDS25519" || spec.startsWith("ML_DSA") ? null : hashOf(algorithm);
      const opts = algorithm.startsWith("RSASSA_PSS")
        ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(algorithm.slice(-3)) / 8 }
        : algorithm.startsWith("RSASSA_PKCS1")
          ? { key: publicKey, padding: constants.RSA_PKCS1_PADDING }
          : publicKey;
      expect(verify(nodeAlgorithm, message, opts, signature)).toBe(true);
    }

    const ok = await t.call("POST", `/v1/keys/${name}/verify`, { ...body, signature: signed.body.signature });
    expect(ok.body).toMatchObject({ signatureValid: true, keyVersion: 1, signingAlgorithm: algorithm });
    const changed = Buffer.from(input);
    changed[3]! ^= 1;
    expect((await t.call("POST", `/v1/keys/${name}/verify`, { ...body, message: b64(changed), signature: signed.body.signature })).body.signatureValid).toBe(false);
    const bad = Buffer.from(signature);
    bad[bad.length - 5]! ^= 0x40;
    expect((await t.call("POST", `/v1/keys/${name}/verify`, { ...body, signature: b64(bad) })).body.signatureValid).toBe(false);
  });

  it("a signature of one key does not verify under another key of the same spec", async () => {
    const a = await key("ECC_NIST_P256", "SIGN_VERIFY");
    expect((await t.call("POST", "/v1/keys", { name: "other-p256", keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    const body = { message: b64(message), signingAlgorithm: "ECDSA_SHA_256" };
    const { signature } = (await t.call("POST", `/v1/keys/${a}/sign`, body)).body;
    expect((await t.call("POST", "/v1/keys/other-p256/verify", { ...body, signature })).body.signatureValid).toBe(false);
  });

  it("an algorithm of another spec, or of another usage, is InvalidKeyUsage", async () => {
    const rsaSign = await key("RSA_2048", "SIGN_VERIFY");
    const p256 = await key("ECC_NIST_P256", "SIGN_VERIFY");
    const rsaEncrypt = await key("RSA_2048", "ENCRYPT_DECRYPT");
    const refused = [
      [`/v1/keys/${p256}/sign`, { message: b64(message), signingAlgorithm: "ECDSA_SHA_384" }],
      [`/v1/keys/${p256}/sign`, { message: b64(message), signingAlgorithm: "RSASSA_PSS_SHA_256" }],
      [`/v1/keys/${rsaSign}/sign`, { message: b64(message), signingAlgorithm: "ED25519_SHA_512" }],
      [`/v1/keys/${rsaEncrypt}/sign`, { message: b64(message), signingAlgorithm: "RSASSA_PSS_SHA_256" }],
      [`/v1/keys/${rsaSign}/encrypt`, { plaintext: b64("x"), encryptionAlgorithm: "RSAES_OAEP_SHA_256" }],
      [`/v1/keys/${rsaEncrypt}/encrypt`, { plaintext: b64("x") }],
      [`/v1/keys/${p256}/derive-shared-secret`, { keyAgreementAlgorithm: "ECDH", publicKey: b64(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" })) }],
    ] as const;
    for (const [url, body] of refused) {
      const r = await t.call("POST", url, body);
      expect([r.status, r.body.error?.code], `${url} ${JSON.stringify(body)}`).toEqual([400, "InvalidKeyUsage"]);
    }
    expect((await t.call("POST", "/v1/keys", { name: "sym" })).status).toBe(201);
    for (const [method, url, body] of [
      ["POST", "/v1/keys/sym/sign", { message: b64(message), signingAlgorithm: "ECDSA_SHA_256" }],
      ["GET", "/v1/keys/sym/public-key", undefined],
      ["POST", "/v1/keys/sym/encrypt", { plaintext: b64("x"), encryptionAlgorithm: "RSAES_OAEP_SHA_1" }],
    ] as const) {
      const r = await t.call(method, url, body);
      expect([r.status, r.body.error?.code], url).toEqual([400, "InvalidKeyUsage"]);
    }
  });

  it("DIGEST only where the algorithm signs a digest, and only of the hash's length (InvalidInput)", async () => {
    const ed = await key("ECC_NIST_EDWARDS25519", "SIGN_VERIFY");
    const mldsa = await key("ML_DSA_44", "SIGN_VERIFY");
    const p384 = await key("ECC_NIST_P384", "SIGN_VERIFY");
    const digest64 = b64(createHash("sha512").update(message).digest());
    for (const [url, body, field] of [
      [`/v1/keys/${ed}/sign`, { message: digest64, messageType: "DIGEST", signingAlgorithm: "ED25519_SHA_512" }, "/messageType"],
      [`/v1/keys/${mldsa}/sign`, { message: digest64, messageType: "DIGEST", signingAlgorithm: "ML_DSA_SHAKE_256" }, "/messageType"],
      [`/v1/keys/${p384}/sign`, { message: b64(createHash("sha256").update(message).digest()), messageType: "DIGEST", signingAlgorithm: "ECDSA_SHA_384" }, "/message"],
    ] as const) {
      const r = await t.call("POST", url, body);
      expect([r.status, r.body.error.code, r.body.error.field], url).toEqual([400, "InvalidInput", field]);
    }
  });

  it("a message over 4096 bytes is TooLarge (sign a DIGEST instead)", async () => {
    const name = await key("ECC_NIST_P256", "SIGN_VERIFY");
    const r = await t.call("POST", `/v1/keys/${name}/sign`, { message: b64(Buffer.alloc(4097)), signingAlgorithm: "ECDSA_SHA_256" });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([413, "TooLarge", "/message"]);
    expect((await t.call("POST", `/v1/keys/${name}/sign`, { message: b64(Buffer.alloc(4096)), signingAlgorithm: "ECDSA_SHA_256" })).status).toBe(200);
  });
});

describe("GetPublicKey", () => {
  it("answers DER SubjectPublicKeyInfo with the key's spec, usage and algorithms", async () => {
    const name = await key("RSA_3072", "ENCRYPT_DECRYPT");
    const r = await t.call("GET", `/v1/keys/${name}/public-key`);
    expect(r.body).toMatchObject({ keyVersion: 1, keySpec: "RSA_3072", keyUsage: "ENCRYPT_DECRYPT", algorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] });
    const pub = createPublicKey({ key: Buffer.from(r.body.publicKey, "base64"), format: "der", type: "spki" });
    expect(pub.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072 });
    expect((await t.call("GET", `/v1/keys/${name}/public-key?version=2`)).body.error.code).toBe("NotFound");
  });
});

describe("RSA-OAEP Encrypt and Decrypt", () => {
  it.each(["RSA_2048", "RSA_3072", "RSA_4096"] as const)("%s: both OAEP hashes round-trip; a ciphertext from outside (node:crypto, the public key) decrypts", async (spec) => {
    const name = await key(spec, "ENCRYPT_DECRYPT");
    const pub = createPublicKey({ key: Buffer.from((await t.call("GET", `/v1/keys/${name}/public-key`)).body.publicKey, "base64"), format: "der", type: "spki" });
    for (const [algorithm, oaepHash] of [["RSAES_OAEP_SHA_1", "sha1"], ["RSAES_OAEP_SHA_256", "sha256"]] as const) {
      const enc = await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64("secret"), encryptionAlgorithm: algorithm });
      expect(enc.body).toMatchObject({ keyVersion: 1, encryptionAlgorithm: algorithm });
      expect(Buffer.from(enc.body.ciphertext, "base64")).toHaveLength(Number(spec.slice(4)) / 8);
      const dec = await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext, keyId: name, encryptionAlgorithm: algorithm });
      expect(dec.body).toMatchObject({ keyVersion: 1, plaintext: b64("secret"), encryptionAlgorithm: algorithm });

      const outside = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from("from outside"));
      expect((await t.call("POST", "/v1/decrypt", { ciphertext: b64(outside), keyId: name, encryptionAlgorithm: algorithm })).body.plaintext).toBe(b64("from outside"));
    }
  });

  it("a tampered ciphertext, the other OAEP hash, or a ciphertext of another key is InvalidCiphertext", async () => {
    const name = await key("RSA_2048", "ENCRYPT_DECRYPT");
    expect((await t.call("POST", "/v1/keys", { name: "rsa-other", keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" })).status).toBe(201);
    const { ciphertext } = (await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64("secret"), encryptionAlgorithm: "RSAES_OAEP_SHA_256" })).body;
    const bad = Buffer.from(ciphertext, "base64");
    bad[100]! ^= 1;
    for (const body of [
      { ciphertext: b64(bad), keyId: name, encryptionAlgorithm: "RSAES_OAEP_SHA_256" },
      { ciphertext, keyId: name, encryptionAlgorithm: "RSAES_OAEP_SHA_1" },
      { ciphertext, keyId: "rsa-other", encryptionAlgorithm: "RSAES_OAEP_SHA_256" },
      { ciphertext: b64(Buffer.alloc(10)), keyId: name, encryptionAlgorithm: "RSAES_OAEP_SHA_256" },
    ]) {
      const r = await t.call("POST", "/v1/decrypt", body);
      expect([r.status, r.body.error.code]).toEqual([400, "InvalidCiphertext"]);
    }
  });

  it("refuses a plaintext longer than OAEP allows, a context, and decrypting without keyId (InvalidInput)", async () => {
    const name = await key("RSA_2048", "ENCRYPT_DECRYPT");
    const tooLong = await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64(Buffer.alloc(191)), encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    expect([tooLong.body.error.code, tooLong.body.error.field]).toEqual(["InvalidInput", "/plaintext"]);
    expect((await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64(Buffer.alloc(190)), encryptionAlgorithm: "RSAES_OAEP_SHA_256" })).status).toBe(200);
    const withContext = await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64("x"), encryptionAlgorithm: "RSAES_OAEP_SHA_256", context: { a: "b" } });
    expect([withContext.body.error.code, withContext.body.error.field]).toEqual(["InvalidInput", "/context"]);
    const noKey = await t.call("POST", "/v1/decrypt", { ciphertext: b64(Buffer.alloc(256)), encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    expect([noKey.body.error.code, noKey.body.error.field]).toEqual(["InvalidInput", "/keyId"]);
  });
});

describe("rotation of asymmetric keys", () => {
  it("new signatures name the new version; old signatures verify with their version; the primary alone does not verify them", async () => {
    expect((await t.call("POST", "/v1/keys", { name: "rotating-signer", keySpec: "ML_DSA_65", keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    const body = { message: b64(message), signingAlgorithm: "ML_DSA_SHAKE_256" as SigningAlgorithm };
    const v1 = (await t.call("POST", "/v1/keys/rotating-signer/sign", body)).body;
    expect((await t.call("POST", "/v1/keys/rotating-signer/rotate")).body.primaryVersion).toBe(2);
    const v2 = (await t.call("POST", "/v1/keys/rotating-signer/sign", body)).body;
    expect([v1.keyVersion, v2.keyVersion]).toEqual([1, 2]);

    expect((await t.call("POST", "/v1/keys/rotating-signer/verify", { ...body, signature: v1.signature, keyVersion: 1 })).body).toMatchObject({ signatureValid: true, keyVersion: 1 });
    expect((await t.call("POST", "/v1/keys/rotating-signer/verify", { ...body, signature: v2.signature })).body).toMatchObject({ signatureValid: true, keyVersion: 2 });
    // Verify tries exactly one version: the old signature against the primary is simply invalid.
    expect((await t.call("POST", "/v1/keys/rotating-signer/verify", { ...body, signature: v1.signature })).body).toMatchObject({ signatureValid: false, keyVersion: 2 });
    // Each version has its own public key.
    const pk = async (v: number) => (await t.call("GET", `/v1/keys/rotating-signer/public-key?version=${v}`)).body.publicKey;
    expect(await pk(1)).not.toBe(await pk(2));

    // A disabled or retired version verifies nothing (Disabled), like decryption.
    expect((await t.call("POST", "/v1/keys/rotating-signer/versions/1/disable")).status).toBe(200);
    const disabled = await t.call("POST", "/v1/keys/rotating-signer/verify", { ...body, signature: v1.signature, keyVersion: 1 });
    expect([disabled.status, disabled.body.error.code]).toEqual([409, "Disabled"]);
  });

  it("old ciphertexts decrypt with their version after rotation; new ones use the new key pair", async () => {
    expect((await t.call("POST", "/v1/keys", { name: "rotating-rsa", keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" })).status).toBe(201);
    const enc = (plaintext: string) => t.call("POST", "/v1/keys/rotating-rsa/encrypt", { plaintext: b64(plaintext), encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    const old = (await enc("before")).body;
    await t.call("POST", "/v1/keys/rotating-rsa/rotate");
    const fresh = (await enc("after")).body;
    expect([old.keyVersion, fresh.keyVersion]).toEqual([1, 2]);
    const dec = (ciphertext: string, keyVersion?: number) =>
      t.call("POST", "/v1/decrypt", { ciphertext, keyId: "rotating-rsa", encryptionAlgorithm: "RSAES_OAEP_SHA_256", ...(keyVersion !== undefined && { keyVersion }) });
    expect((await dec(old.ciphertext, 1)).body).toMatchObject({ keyVersion: 1, plaintext: b64("before") });
    expect((await dec(fresh.ciphertext)).body).toMatchObject({ keyVersion: 2, plaintext: b64("after") });
    expect((await dec(old.ciphertext)).body.error.code).toBe("InvalidCiphertext");
  });
});

describe("GenerateDataKeyPair", () => {
  beforeAll(async () => {
    expect((await t.call("POST", "/v1/keys", { name: "wrapping" })).status).toBe(201);
  });

  it.each(["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"] as const)(
    "%s: a private key (PKCS#8) matching the public key, encrypted under the symmetric key with the context",
    async (keyPairSpec) => {
      const context = { purpose: "device-keys" };
      const r = await t.call("POST", "/v1/keys/wrapping/generate-data-key-pair", { keyPairSpec, context });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ keyPairSpec, keyVersion: 1 });
      const privateKey = createPrivateKey({ key: Buffer.from(r.body.privateKeyPlaintext, "base64"), format: "der", type: "pkcs8" });
      expect(createPublicKey(privateKey).export({ type: "spki", format: "der" }).toString("base64")).toBe(r.body.publicKey);
      const opened = await t.call("POST", "/v1/decrypt", { ciphertext: r.body.privateKeyCiphertext, context });
      expect(opened.body.plaintext).toBe(r.body.privateKeyPlaintext);
      expect((await t.call("POST", "/v1/decrypt", { ciphertext: r.body.privateKeyCiphertext })).body.error.code).toBe("InvalidCiphertext");

      const without = await t.call("POST", "/v1/keys/wrapping/generate-data-key-pair-without-plaintext", { keyPairSpec });
      expect(without.body).not.toHaveProperty("privateKeyPlaintext");
      expect((await t.call("POST", "/v1/decrypt", { ciphertext: without.body.privateKeyCiphertext })).status).toBe(200);
    },
  );

  it("needs a symmetric encryption key (InvalidKeyUsage), and a spec AWS has for data key pairs", async () => {
    const rsa = await key("RSA_2048", "ENCRYPT_DECRYPT");
    const r = await t.call("POST", `/v1/keys/${rsa}/generate-data-key-pair`, { keyPairSpec: "ECC_NIST_P256" });
    expect([r.status, r.body.error.code]).toEqual([400, "InvalidKeyUsage"]);
    const mldsa = await t.call("POST", "/v1/keys/wrapping/generate-data-key-pair", { keyPairSpec: "ML_DSA_44" });
    expect([mldsa.status, mldsa.body.error.code, mldsa.body.error.field]).toEqual([400, "InvalidInput", "/keyPairSpec"]);
  });
});

describe("DeriveSharedSecret", () => {
  it.each([["ECC_NIST_P256", "prime256v1"], ["ECC_NIST_P384", "secp384r1"], ["ECC_NIST_P521", "secp521r1"]] as const)(
    "%s: the same secret the peer computes with Tessera's public key",
    async (spec, curve) => {
      const name = await key(spec, "KEY_AGREEMENT");
      const peer = generateKeyPairSync("ec", { namedCurve: curve });
      const r = await t.call("POST", `/v1/keys/${name}/derive-shared-secret`, { keyAgreementAlgorithm: "ECDH", publicKey: b64(peer.publicKey.export({ type: "spki", format: "der" })) });
      expect(r.body).toMatchObject({ keyVersion: 1, keyAgreementAlgorithm: "ECDH" });
      const ours = createPublicKey({ key: Buffer.from((await t.call("GET", `/v1/keys/${name}/public-key`)).body.publicKey, "base64"), format: "der", type: "spki" });
      expect(diffieHellman({ privateKey: peer.privateKey, publicKey: ours }).toString("base64")).toBe(r.body.sharedSecret);
    },
  );

  it("refuses a peer key of another curve, or one that is not a public key (InvalidInput at /publicKey)", async () => {
    const name = await key("ECC_NIST_P256", "KEY_AGREEMENT");
    for (const publicKey of [
      b64(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "der" })),
      b64(generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" })),
      b64("not a key"),
    ]) {
      const r = await t.call("POST", `/v1/keys/${name}/derive-shared-secret`, { keyAgreementAlgorithm: "ECDH", publicKey });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, "InvalidInput", "/publicKey"]);
    }
  });
});

describe("audit", () => {
  it("records each asymmetric operation with key id and version, never the message, plaintext or secret", async () => {
    const secret = "audit-canary-7f3a";
    const name = await key("RSA_2048", "ENCRYPT_DECRYPT");
    const signer = "audited-signer";
    const { keyId } = (await t.call("POST", "/v1/keys", { name: signer, keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" })).body;
    const signed = await t.call("POST", `/v1/keys/${signer}/sign`, { message: b64(secret), signingAlgorithm: "ECDSA_SHA_256" });
    await t.call("POST", `/v1/keys/${signer}/verify`, { message: b64(secret), signingAlgorithm: "ECDSA_SHA_256", signature: signed.body.signature });
    const enc = await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64(secret), encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext, keyId: name, encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    const records = (await t.call("GET", `/v1/audit/entries?key=${keyId}&limit=100`)).body.records as { action: string; keyId: string; keyVersion: number }[];
    expect(records.filter((r) => r.action === "kms:Sign" || r.action === "kms:Verify").map((r) => [r.action, r.keyId, r.keyVersion])).toEqual([
      ["kms:Sign", keyId, 1],
      ["kms:Verify", keyId, 1],
    ]);
    const all = JSON.stringify((await t.call("GET", "/v1/audit/entries?limit=1000")).body);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(b64(secret));
    expect(all).not.toContain(signed.body.signature);
  });
});
